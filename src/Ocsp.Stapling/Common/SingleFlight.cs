using System.Collections.Concurrent;

namespace Ocsp.Stapling.Internal;

/// <summary>
/// The library's one single flight: at most one run of a piece of work per key at a time, every caller that comes while
/// it runs joining it (a registration's refresh, a one-shot fetch, the first request for a certificate learned on
/// demand). A run leaves the flight before its result is published, so a caller that sees the result and asks again
/// starts a new run rather than joining the finished one.
/// </summary>
internal sealed class SingleFlight<TKey, TResult>
    where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, Flight<TResult>> _flights;

    public SingleFlight(IEqualityComparer<TKey>? comparer = null) => _flights = new(comparer);

    /// <summary>Gets how many runs are under way.</summary>
    public int Count => _flights.Count;

    /// <summary>The run under way for <paramref name="key"/>, or <see langword="null"/>.</summary>
    public Flight<TResult>? Current(TKey key) => _flights.GetValueOrDefault(key);

    /// <summary>
    /// Joins the run under way for <paramref name="key"/>, or starts <paramref name="work"/> (exactly one caller does).
    /// When the work ends, the run leaves the flight, <paramref name="afterLeaving"/> runs (a next step that must see no
    /// run under way), and then the result is published. The work's exception, if any, is the result's.
    /// </summary>
    public Flight<TResult> Run<TState>(TKey key, TState state, Func<TKey, TState, Flight<TResult>, Task<TResult>> work, Action<TKey, TState, TResult>? afterLeaving = null)
    {
        if (_flights.TryGetValue(key, out Flight<TResult>? running))
        {
            return running;
        }

        var candidate = new Flight<TResult>();
        Flight<TResult> flight = _flights.GetOrAdd(key, candidate);
        if (ReferenceEquals(flight, candidate))
        {
            _ = RunAsync(key, state, work, afterLeaving, candidate);
        }

        return flight;
    }

    private async Task RunAsync<TState>(
        TKey key, TState state, Func<TKey, TState, Flight<TResult>, Task<TResult>> work, Action<TKey, TState, TResult>? afterLeaving, Flight<TResult> flight)
    {
        TResult result = default!;
        Exception? error = null;
        try
        {
            result = await work(key, state, flight).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Handed to every caller through the flight's result.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            error = ex;
        }

        _flights.TryRemove(new KeyValuePair<TKey, Flight<TResult>>(key, flight));
        try
        {
            if (error is null)
            {
                afterLeaving?.Invoke(key, state, result);
            }
        }
        finally
        {
            flight.End(result, error);
        }
    }
}

/// <summary>One run of a <see cref="SingleFlight{TKey, TResult}"/>: its result, and a milestone the work may reach before it ends.</summary>
internal sealed class Flight<TResult>
{
    private readonly TaskCompletionSource<TResult> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _milestone = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Gets the run's result.</summary>
    public Task<TResult> Result => _result.Task;

    /// <summary>Gets a task that completes when the work says it passed its milestone (for the on-demand checks: past the shared store), or when the run ends.</summary>
    public Task Milestone => _milestone.Task;

    /// <summary>Says the work passed its milestone.</summary>
    public void PassMilestone() => _milestone.TrySetResult();

    internal void End(TResult result, Exception? error)
    {
        _milestone.TrySetResult();
        if (error is null)
        {
            _result.TrySetResult(result);
        }
        else
        {
            _result.TrySetException(error);
        }
    }
}
