namespace Ocsp.Stapling.Testing;

/// <summary>
/// Waiting for a signal a process gives (a log line, a pidfile, a port answering, a handshake that staples): polled until
/// it is there, with a deadline long enough that only a process that never gives it fails, however loaded the machine.
/// The deadline is not a timing assertion; nothing is concluded from how long the wait took.
/// </summary>
public static class Signals
{
    /// <summary>How long a signal is waited for before the test fails: a minute.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromMinutes(1);

    /// <summary>Polls <paramref name="signal"/> until it gives a value; throws <see cref="TimeoutException"/> naming <paramref name="what"/> at the deadline.</summary>
    public static async Task<T> WaitAsync<T>(Func<Task<T?>> signal, string what, TimeSpan? deadline = null, Func<string>? diagnostics = null)
        where T : class
    {
        DateTime end = DateTime.UtcNow + (deadline ?? Deadline);
        int poll = 25;
        while (true)
        {
            if (await signal().ConfigureAwait(false) is { } value)
            {
                return value;
            }

            if (DateTime.UtcNow >= end)
            {
                throw new TimeoutException($"Waited {(deadline ?? Deadline).TotalSeconds:0} s for {what}; it never came.{(diagnostics is null ? "" : "\n" + diagnostics())}");
            }

            await Task.Delay(poll).ConfigureAwait(false);
            poll = Math.Min(poll * 2, 250);
        }
    }

    /// <summary>Polls <paramref name="condition"/> until it holds; throws <see cref="TimeoutException"/> naming <paramref name="what"/> at the deadline.</summary>
    public static Task WaitAsync(Func<bool> condition, string what, TimeSpan? deadline = null, Func<string>? diagnostics = null) =>
        WaitAsync<object>(() => Task.FromResult<object?>(condition() ? true : null), what, deadline, diagnostics);

    /// <summary>Polls <paramref name="condition"/> until it holds; <see langword="false"/> at the deadline (for waits whose end is not a failure, such as a process exiting after a signal).</summary>
    public static async Task<bool> TryWaitAsync(Func<bool> condition, TimeSpan? deadline = null)
    {
        DateTime end = DateTime.UtcNow + (deadline ?? Deadline);
        for (int poll = 25; !condition(); poll = Math.Min(poll * 2, 250))
        {
            if (DateTime.UtcNow >= end)
            {
                return false;
            }

            await Task.Delay(poll).ConfigureAwait(false);
        }

        return true;
    }
}
