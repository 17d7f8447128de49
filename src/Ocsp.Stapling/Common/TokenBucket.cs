namespace Ocsp.Stapling.Internal;

/// <summary>
/// A token bucket refilled at <c>perSecond</c> on a <see cref="TimeProvider"/>, holding at most <c>capacity</c> tokens
/// (default: one second's worth, at least one). Shared source: the fetcher's per-host limits wait on it, the proxy's
/// per-responder and per-client limits refuse on it. Safe for concurrent use: its own lock guards its two fields.
/// </summary>
internal sealed class TokenBucket(TimeProvider time, double perSecond, double capacity = 0)
{
    private readonly Lock _gate = new();
    private readonly double _capacity = Math.Max(1, capacity > 0 ? capacity : perSecond);
    private double _tokens = Math.Max(1, capacity > 0 ? capacity : perSecond);
    private long _refilledAt = time.GetTimestamp();

    /// <summary>Gets a value indicating whether the bucket is full now: it has not been drawn on lately, and forgetting it loses nothing.</summary>
    public bool IsFull
    {
        get
        {
            lock (_gate)
            {
                Refill();
                return _tokens >= _capacity;
            }
        }
    }

    /// <summary>Takes a token when one is there; otherwise says how long until one is.</summary>
    public bool TryTake(out TimeSpan wait)
    {
        lock (_gate)
        {
            Refill();
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

    /// <summary>Under the lock.</summary>
    private void Refill()
    {
        long now = time.GetTimestamp();
        _tokens = Math.Min(_capacity, _tokens + (time.GetElapsedTime(_refilledAt, now).TotalSeconds * perSecond));
        _refilledAt = now;
    }
}
