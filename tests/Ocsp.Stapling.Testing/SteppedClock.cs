namespace Ocsp.Stapling.Testing;

/// <summary>
/// A wall clock that can step (NTP, a resumed VM) over a <see cref="FakeTimeProvider"/>: <see cref="GetUtcNow"/> moves by
/// <see cref="Step"/>, while timestamps and timers stay on the fake monotonic clock, as they do on a real system
/// (a timer does not fire early because the wall clock jumped). <see cref="FakeTimeProvider.Advance"/> moves both.
/// </summary>
public sealed class SteppedClock(FakeTimeProvider monotonic) : TimeProvider
{
    private long _offsetTicks;

    public FakeTimeProvider Monotonic => monotonic;

    /// <summary>Steps the wall clock by <paramref name="step"/> (negative: back), leaving timers and timestamps alone.</summary>
    public void Step(TimeSpan step) => Interlocked.Add(ref _offsetTicks, step.Ticks);

    public override DateTimeOffset GetUtcNow() => monotonic.GetUtcNow() + TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));

    public override long GetTimestamp() => monotonic.GetTimestamp();

    public override long TimestampFrequency => monotonic.TimestampFrequency;

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        monotonic.CreateTimer(callback, state, dueTime, period);
}
