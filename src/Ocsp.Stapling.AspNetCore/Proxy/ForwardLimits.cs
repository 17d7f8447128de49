using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Ocsp.Stapling.Internal;

namespace Ocsp.Stapling.AspNetCore.Internal;

/// <summary>
/// Per upstream responder (scheme, host, port): at most <see cref="OcspProxyOptions.MaxConcurrentForwardsPerResponder"/>
/// forwarded requests at once and <see cref="OcspProxyOptions.MaxForwardsPerSecondPerResponder"/> per second (a token
/// bucket of one second's worth, refilled on the <see cref="TimeProvider"/>). Past either, a request is refused at once
/// (never queued: a queue is what a flood fills), counted in <c>ocsp.stapling.proxy.forwards_refused</c>, and logged at
/// most once per responder per <see cref="LogInterval"/>, with how many were refused.
/// </summary>
internal sealed class ForwardLimits : IDisposable
{
    public static readonly TimeSpan LogInterval = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, Upstream> _upstreams = new(StringComparer.OrdinalIgnoreCase);
    private readonly OcspProxyOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Meter? _ownMeter;
    private readonly Counter<long> _refused;

    public ForwardLimits(OcspProxyOptions options, TimeProvider time, ILogger logger, IMeterFactory? meterFactory)
    {
        _options = options;
        _time = time;
        _logger = logger;
        // The factory's meter is shared with the core library's instruments (same name) and disposed by the factory.
        _ownMeter = meterFactory is null ? new Meter("Ocsp.Stapling") : null;
        Meter meter = meterFactory?.Create("Ocsp.Stapling") ?? _ownMeter!;
        _refused = meter.CreateCounter<long>(
            "ocsp.stapling.proxy.forwards_refused", "{request}", "Forwarded (uncached) proxy requests refused by the per-responder concurrency or rate limit, answered tryLater.");
    }

    /// <summary>A lease on one forward to <paramref name="upstream"/>, or <see langword="null"/> (and the reason) when a limit is reached.</summary>
    public IDisposable? TryAcquire(Uri upstream, out string? refusal)
    {
        string authority = upstream.GetLeftPart(UriPartial.Authority);
        Upstream state = _upstreams.GetOrAdd(authority, static (_, limits) => new Upstream(new TokenBucket(limits._time, limits._options.MaxForwardsPerSecondPerResponder)), this);
        string limit;
        lock (state)
        {
            long now = _time.GetTimestamp();
            if (state.InFlight >= _options.MaxConcurrentForwardsPerResponder)
            {
                limit = "concurrency";
            }
            else if (!state.Bucket.TryTake(out _))
            {
                limit = "rate";
            }
            else
            {
                state.InFlight++;
                refusal = null;
                return new Lease(state);
            }

            // Counted each time; logged at most once per interval, with how many were refused since the last line.
            state.Refused++;
            if (state.LastLogged is not { } logged || _time.GetElapsedTime(logged, now) >= LogInterval)
            {
                Log.ProxyForwardsRefused(_logger, authority, state.Refused, limit, _options.MaxConcurrentForwardsPerResponder, _options.MaxForwardsPerSecondPerResponder);
                state.Refused = 0;
                state.LastLogged = now;
            }
        }

        _refused.Add(1, new KeyValuePair<string, object?>("limit", limit), new KeyValuePair<string, object?>("responder", authority));
        refusal = $"the forward limit of {authority} is reached";
        return null;
    }

    public void Dispose() => _ownMeter?.Dispose();

    private sealed class Upstream(TokenBucket bucket)
    {
        public TokenBucket Bucket { get; } = bucket;

        public int InFlight { get; set; }

        public long Refused { get; set; }

        public long? LastLogged { get; set; }
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
