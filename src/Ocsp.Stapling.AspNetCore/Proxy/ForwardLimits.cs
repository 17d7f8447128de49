using System.Collections.Concurrent;
using Ocsp.Stapling.Internal;

namespace Ocsp.Stapling.AspNetCore.Internal;

/// <summary>
/// Per upstream responder (scheme, host, port): at most <see cref="OcspProxyLimitOptions.MaxConcurrentForwardsPerResponder"/>
/// requests the proxy sends for its clients at once (forwards, and first requests for certificates of known CAs) and
/// <see cref="OcspProxyLimitOptions.MaxForwardsPerSecondPerResponder"/> per second (a token bucket of one second's worth,
/// refilled on the <see cref="TimeProvider"/>). Past either, a request is refused at once: never queued, as a queue is
/// what a flood fills. The refusals are counted and summarised by <see cref="ProxyActivity"/>.
/// </summary>
internal sealed class ForwardLimits
{
    private readonly ConcurrentDictionary<string, Upstream> _upstreams = new(StringComparer.OrdinalIgnoreCase);
    private readonly OcspProxyOptions _options;
    private readonly TimeProvider _time;

    public ForwardLimits(OcspProxyOptions options, TimeProvider time)
    {
        _options = options;
        _time = time;
    }

    /// <summary>A lease on one request to <paramref name="upstream"/>, or <see langword="null"/> (and the limit: <see cref="ProxyLimit.Concurrency"/>, <see cref="ProxyLimit.Rate"/>) when one is reached.</summary>
    public IDisposable? TryAcquire(Uri upstream, out ProxyLimit? limit)
    {
        string authority = upstream.GetLeftPart(UriPartial.Authority);
        Upstream state = _upstreams.GetOrAdd(authority, static (_, limits) => new Upstream(new TokenBucket(limits._time, limits._options.Limits.MaxForwardsPerSecondPerResponder)), this);
        lock (state)
        {
            if (state.InFlight >= _options.Limits.MaxConcurrentForwardsPerResponder)
            {
                limit = ProxyLimit.Concurrency;
                return null;
            }

            if (!state.Bucket.TryTake(out _))
            {
                limit = ProxyLimit.Rate;
                return null;
            }

            state.InFlight++;
        }

        limit = null;
        return new Lease(state);
    }

    private sealed class Upstream(TokenBucket bucket)
    {
        public TokenBucket Bucket { get; } = bucket;

        public int InFlight { get; set; }
    }

    private sealed class Lease(Upstream upstream) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                lock (upstream)
                {
                    upstream.InFlight--;
                }
            }
        }
    }
}
