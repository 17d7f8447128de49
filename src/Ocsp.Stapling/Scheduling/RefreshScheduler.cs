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

    private readonly Lock _gate = new();
    private readonly PriorityQueue<(Registration Registration, long Version), DateTimeOffset> _queue = new();

    // Each registration's live queue entry carries the version recorded here (any other is stale); versions are never
    // reused, so a stale entry can never pass for a live one. Under _gate.
    private readonly Dictionary<Registration, long> _versions = new(ReferenceEqualityComparer.Instance);
    private long _lastVersion;
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
            bool kept = RegistrationStore.Reschedule(registration, at);
            long version = _versions[registration] = ++_lastVersion;
            if (at != DateTimeOffset.MaxValue && kept)
            {
                _queue.Enqueue((registration, version), at);
            }
            else
            {
                _versions.Remove(registration); // nothing queued for it: a later schedule starts over
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
                _versions.Remove(entry.Registration); // taken: unscheduled until its refresh schedules it again
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

    /// <summary>An entry older than its registration's latest schedule, or of a removed registration (under the lock).</summary>
    private bool IsStale((Registration Registration, long Version) entry)
    {
        if (_versions.TryGetValue(entry.Registration, out long live) && live == entry.Version && !entry.Registration.State.Removed)
        {
            return false;
        }

        if (live == entry.Version)
        {
            _versions.Remove(entry.Registration); // removed: forgotten here too
        }

        return true;
    }
}
