namespace Ocsp.Stapling.Internal;

/// <summary>
/// The due times: a priority queue of registrations by next refresh, and the wake-up of whoever waits for the next one.
/// A registration's <see cref="RegistrationState.NextRefresh"/> is written in its state (by <see cref="Schedule"/>, or
/// by the refresh's own last write together with its outcome) and queued here. Rescheduling leaves the older queue
/// entry behind as stale (skipped by version), so every operation is O(log n) with no scan of the registry.
/// </summary>
internal sealed class RefreshScheduler
{
    private static readonly TimeSpan LongestWait = TimeSpan.FromDays(1);

    private readonly object _gate = new();
    private readonly PriorityQueue<(Registration Registration, long Version), DateTimeOffset> _queue = new();
    private readonly TimeProvider _time;
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public RefreshScheduler(TimeProvider time)
    {
        _time = time;
    }

    /// <summary>Sets when <paramref name="registration"/> is refreshed next (<see cref="DateTimeOffset.MaxValue"/>: never) and wakes the waiter.</summary>
    public void Schedule(Registration registration, DateTimeOffset at)
    {
        lock (_gate)
        {
            // Under the scheduler's lock (then the registration's): the state's due time and the live queue entry agree.
            registration.Write(at, static (state, at) => state.Removed || state.NextRefresh == at ? null : state with { NextRefresh = at });
            long version = ++registration.ScheduleVersion;
            if (at != DateTimeOffset.MaxValue && !registration.State.Removed)
            {
                _queue.Enqueue((registration, version), at);
            }

            _wake.TrySetResult();
        }
    }

    /// <summary>Wakes the waiter to recompute its wait (the wall clock stepped).</summary>
    public void Wake()
    {
        lock (_gate)
        {
            _wake.TrySetResult();
        }
    }

    /// <summary>Takes the earliest registration due at <paramref name="now"/>, if any. It stays unscheduled until the refresh schedules it again.</summary>
    public bool TryTakeDue(DateTimeOffset now, out Registration registration)
    {
        lock (_gate)
        {
            while (_queue.TryPeek(out (Registration Registration, long Version) entry, out DateTimeOffset at))
            {
                if (IsStale(entry))
                {
                    _queue.Dequeue();
                    continue;
                }

                if (at > now)
                {
                    break;
                }

                _queue.Dequeue();
                entry.Registration.ScheduleVersion++;
                registration = entry.Registration;
                return true;
            }
        }

        registration = null!;
        return false;
    }

    /// <summary>Waits until the earliest refresh is due or anything is scheduled; returns at once when one is due.</summary>
    public async Task WaitAsync(CancellationToken cancellationToken)
    {
        Task wake;
        DateTimeOffset next;
        lock (_gate)
        {
            if (_wake.Task.IsCompleted)
            {
                _wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            wake = _wake.Task;
            next = DateTimeOffset.MaxValue;
            while (_queue.TryPeek(out (Registration Registration, long Version) entry, out DateTimeOffset at))
            {
                if (!IsStale(entry))
                {
                    next = at;
                    break;
                }

                _queue.Dequeue();
            }
        }

        DateTimeOffset now = _time.GetUtcNow();
        if (next <= now)
        {
            return;
        }

        TimeSpan wait = next - now < LongestWait ? next - now : LongestWait;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task delay = Task.Delay(wait, _time, stop.Token);
        await Task.WhenAny(delay, wake).ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
    }

    private static bool IsStale((Registration Registration, long Version) entry) =>
        entry.Registration.State.Removed || entry.Version != entry.Registration.ScheduleVersion;
}
