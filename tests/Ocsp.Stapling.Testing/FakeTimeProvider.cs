using System.Diagnostics.CodeAnalysis;

namespace Ocsp.Stapling.Testing;

/// <summary>
/// The clock of <c>Microsoft.Extensions.TimeProvider.Testing</c> (timers fire inside <c>Advance</c>, in due order, each
/// seeing the clock at its due time), started at a fixed instant, plus signals for tests: when a timer is scheduled, or
/// scheduled for a given instant (a background loop parked on its delay, a retry waiting what a server asked).
/// </summary>
public sealed class FakeTimeProvider : Microsoft.Extensions.Time.Testing.FakeTimeProvider
{
    /// <summary>The default start: a fixed instant so that test output is reproducible.</summary>
    public static readonly DateTimeOffset DefaultStart = new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly object _gate = new();
    private readonly List<TrackedTimer> _timers = [];
    private readonly List<(Func<IReadOnlyList<DateTimeOffset>, bool> Condition, TaskCompletionSource Waiter)> _waiters = [];

    public FakeTimeProvider()
        : this(DefaultStart)
    {
    }

    public FakeTimeProvider(DateTimeOffset start)
        : base(start)
    {
    }

    /// <summary>Gets the number of timers currently scheduled.</summary>
    public int ActiveTimerCount
    {
        get
        {
            lock (_gate)
            {
                return _timers.Count(t => t.DueAt is not null);
            }
        }
    }

    /// <summary>Completes once at least <paramref name="count"/> timers are scheduled. A signal, not a poll.</summary>
    public Task WhenActiveTimersAsync(int count = 1) => WhenTimersAsync(due => due.Count >= count);

    /// <summary>Completes once a timer is scheduled to fire exactly at <paramref name="dueAt"/> (a delay of known length has started).</summary>
    public Task WhenTimerDueAtAsync(DateTimeOffset dueAt) => WhenTimersAsync(due => due.Contains(dueAt));

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var tracked = new TrackedTimer(this);
        tracked.Inner = base.CreateTimer(
            static s =>
            {
                var (timer, callback, state) = ((TrackedTimer, TimerCallback, object?))s!;
                timer.Fired();
                callback(state);
            },
            (tracked, callback, state),
            Timeout.InfiniteTimeSpan,
            Timeout.InfiniteTimeSpan);
        lock (_gate)
        {
            _timers.Add(tracked);
        }

        tracked.Change(dueTime, period);
        return tracked;
    }

    private Task WhenTimersAsync(Func<IReadOnlyList<DateTimeOffset>, bool> condition)
    {
        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            _waiters.Add((condition, waiter));
            Signal();
        }

        return waiter.Task;
    }

    /// <summary>Completes the waiters whose condition holds. Called under <c>_gate</c>.</summary>
    private void Signal()
    {
        DateTimeOffset[] due = [.. _timers.Where(t => t.DueAt is not null).Select(t => t.DueAt!.Value)];
        foreach ((Func<IReadOnlyList<DateTimeOffset>, bool> condition, TaskCompletionSource waiter) in _waiters.Where(w => w.Condition(due)).ToArray())
        {
            waiter.TrySetResult();
            _waiters.Remove((condition, waiter));
        }
    }

    /// <summary>The library's timer, with its next due time known to the signals.</summary>
    [SuppressMessage("Design", "CA1001", Justification = "The inner timer is disposed by Dispose.")]
    private sealed class TrackedTimer(FakeTimeProvider owner) : ITimer
    {
        public ITimer Inner { get; set; } = null!;

        public DateTimeOffset? DueAt { get; private set; }

        private TimeSpan Period { get; set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (owner._gate)
            {
                Period = period == Timeout.InfiniteTimeSpan ? TimeSpan.Zero : period;
                DueAt = dueTime == Timeout.InfiniteTimeSpan ? null : owner.GetUtcNow() + dueTime;
            }

            // Outside our lock: the library's clock fires callbacks (which take it) from Advance.
            bool changed = Inner.Change(dueTime, period);
            lock (owner._gate)
            {
                owner.Signal();
            }

            return changed;
        }

        public void Fired()
        {
            lock (owner._gate)
            {
                DueAt = Period > TimeSpan.Zero ? owner.GetUtcNow() + Period : null;
                owner.Signal();
            }
        }

        public void Dispose()
        {
            lock (owner._gate)
            {
                DueAt = null;
                owner._timers.Remove(this);
            }

            Inner.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
