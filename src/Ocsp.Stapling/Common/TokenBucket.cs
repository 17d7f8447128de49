namespace Ocsp.Stapling.Internal;

/// <summary>
/// A token bucket of one second's worth (at least one token), refilled on a <see cref="TimeProvider"/> (shared source:
/// the fetcher's per-host limits wait on it, the proxy's per-responder forward limits refuse on it). Not thread-safe:
/// callers hold their own lock.
/// </summary>
internal sealed class TokenBucket(TimeProvider time, double perSecond)
{
    private readonly double _capacity = Math.Max(1, perSecond);
    private double _tokens = Math.Max(1, perSecond);
    private long _refilledAt = time.GetTimestamp();

    /// <summary>Takes a token when one is there; otherwise says how long until one is.</summary>
    public bool TryTake(out TimeSpan wait)
    {
        long now = time.GetTimestamp();
        _tokens = Math.Min(_capacity, _tokens + (time.GetElapsedTime(_refilledAt, now).TotalSeconds * perSecond));
        _refilledAt = now;
        if (_tokens >= 1)
        {
            _tokens -= 1;
            wait = TimeSpan.Zero;
            return true;
        }

        wait = TimeSpan.FromSeconds((1 - _tokens) / perSecond);
        return false;
    }
}
