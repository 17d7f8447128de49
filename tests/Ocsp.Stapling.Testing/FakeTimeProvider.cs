namespace Ocsp.Stapling.Testing;

/// <summary>
/// A manually driven clock (Microsoft.Extensions.TimeProvider.Testing is not served by our registry).
/// Timers fire synchronously inside <see cref="Advance"/>, in due order, each seeing the clock at its due time.
/// </summary>
public sealed class FakeTimeProvider : TimeProvider
{
    /// <summary>The default start: a fixed instant so that test output is reproducible.</summary>
    public static readonly DateTimeOffset DefaultStart = new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly object _gate = new();
    private readonly List<FakeTimer> _timers = [];
    private DateTimeOffset _now;

    public FakeTimeProvider()
        : this(DefaultStart)
    {
    }

    public FakeTimeProvider(DateTimeOffset start) => _now = start;

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    private readonly List<(Func<IReadOnlyList<DateTimeOffset>, bool> Condition, TaskCompletionSource Waiter)> _timerWaiters = [];

    /// <summary>Completes the waiters whose count is reached. Called under <c>_gate</c>.</summary>
    private void SignalTimerWaiters()
    {
        DateTimeOffset[] due = [.. _timers.Where(t => t.DueAt is not null).Select(t => t.DueAt!.Value)];
        foreach ((Func<IReadOnlyList<DateTimeOffset>, bool> condition, TaskCompletionSource waiter) in _timerWaiters.Where(w => w.Condition(due)).ToArray())
        {
            waiter.TrySetResult();
            _timerWaiters.Remove((condition, waiter));
        }
    }

    /// <summary>Number of timers currently scheduled (useful to wait until a background loop is parked on a delay).</summary>
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

    /// <summary>Completes once at least <paramref name="count"/> timers are scheduled: a background loop is parked on a delay. A signal, not a poll.</summary>
    public Task WhenActiveTimersAsync(int count = 1) => WhenTimersAsync(due => due.Count >= count);

    /// <summary>Completes once a timer is scheduled to fire exactly at <paramref name="dueAt"/> (a delay of known length has started).</summary>
    public Task WhenTimerDueAtAsync(DateTimeOffset dueAt) => WhenTimersAsync(due => due.Contains(dueAt));

    private Task WhenTimersAsync(Func<IReadOnlyList<DateTimeOffset>, bool> condition)
    {
        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            _timerWaiters.Add((condition, waiter));
            SignalTimerWaiters();
        }

        return waiter.Task;
    }

    public override DateTimeOffset GetUtcNow()
    {
        lock (_gate)
        {
            return _now;
        }
    }

    public override long GetTimestamp() => GetUtcNow().UtcTicks;

    /// <summary>Moves the clock forward, firing every timer that falls due on the way.</summary>
    public void Advance(TimeSpan delta)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delta, TimeSpan.Zero);
        DateTimeOffset target;
        lock (_gate)
        {
            target = _now + delta;
        }

        while (true)
        {
            FakeTimer? next;
            lock (_gate)
            {
                next = _timers.Where(t => t.DueAt is { } due && due <= target).OrderBy(t => t.DueAt).ThenBy(t => t.Sequence).FirstOrDefault();
                if (next is null)
                {
                    _now = target;
                    return;
                }

                _now = next.DueAt!.Value > _now ? next.DueAt.Value : _now;
                next.DueAt = next.Period > TimeSpan.Zero ? _now + next.Period : null;
            }

            next.Fire();
        }
    }

    /// <summary>Sets the clock (forward only, firing due timers).</summary>
    public void SetUtcNow(DateTimeOffset value) => Advance(value - GetUtcNow());

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new FakeTimer(this, callback, state);
        lock (_gate)
        {
            _timers.Add(timer);
        }

        timer.Change(dueTime, period);
        return timer;
    }

    private sealed class FakeTimer(FakeTimeProvider owner, TimerCallback callback, object? state) : ITimer
    {
        private static long s_sequence;

        public DateTimeOffset? DueAt { get; set; }

        public TimeSpan Period { get; private set; }

        public long Sequence { get; private set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (owner._gate)
            {
                if (!owner._timers.Contains(this))
                {
                    return false;
                }

                Period = period == Timeout.InfiniteTimeSpan ? TimeSpan.Zero : period;
                DueAt = dueTime == Timeout.InfiniteTimeSpan ? null : owner._now + dueTime;
                Sequence = Interlocked.Increment(ref s_sequence);
                owner.SignalTimerWaiters();
                return true;
            }
        }

        public void Fire() => callback(state);

        public void Dispose()
        {
            lock (owner._gate)
            {
                owner._timers.Remove(this);
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
