using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace Ocsp.Stapling.AspNetCore.Internal;

/// <summary>How the proxy answered one request: the <c>outcome</c> tag of <c>ocsp.stapling.proxy.requests</c>.</summary>
internal enum ProxyOutcome
{
    /// <summary>Answered from the validated store (a listed certificate, or one of a known CA cached earlier).</summary>
    Served,

    /// <summary>A certificate of a known CA asked for the first time: its responder's good or revoked answer, now cached.</summary>
    Cached,

    /// <summary>A CertID of a known CA its responder answered unknown for (a junk serial): relayed as signed, cached briefly.</summary>
    Unknown,

    /// <summary>An unknown answer given again from the short-lived unknown cache, nobody asked.</summary>
    UnknownCached,

    /// <summary>Forwarded uncached (a nonce, several certificates, an unknown CA) and relayed.</summary>
    Forwarded,

    /// <summary>Refused with tryLater by a per-client or per-responder limit, nobody asked.</summary>
    Limited,

    /// <summary>tryLater: the responder failed or gave nothing valid, or a held response expired and its refresh failed.</summary>
    Failed,

    /// <summary>Refused: a responder that is not allowed (403), a prune not allowed (403), a malformed request, too large (413, 414), another media type (415), a body that broke off.</summary>
    Rejected,
}

/// <summary>
/// What the proxy did, counted per request (metrics <c>ocsp.stapling.proxy.requests</c> and
/// <c>ocsp.stapling.proxy.forwards_refused</c>) and summarised in one log line per <see cref="SummaryInterval"/> when
/// anything out of the ordinary happened (limits refusing, junk serials, upstream failures, refused requests): a flood
/// costs one line a minute, not one per request. Per-request lines are Debug.
/// </summary>
internal sealed class ProxyActivity : IDisposable
{
    public static readonly TimeSpan SummaryInterval = TimeSpan.FromMinutes(1);

    private static readonly string[] OutcomeTags = ["served", "cached", "unknown", "unknown_cached", "forwarded", "limited", "failed", "rejected"];
    private readonly long[] _counts = new long[OutcomeTags.Length];
    private readonly ClientLimits _clients;
    private readonly ILogger _logger;
    private readonly Meter? _ownMeter;
    private readonly Counter<long> _requests;
    private readonly Counter<long> _refused;
    private readonly ITimer _timer;
    private long _clientLimited;
    private long _evicted;
    private string? _lastFailure;

    public ProxyActivity(ClientLimits clients, TimeProvider time, ILogger logger, IMeterFactory? meterFactory)
    {
        _clients = clients;
        _logger = logger;

        // The factory's meter is shared with the core library's instruments (same name) and disposed by the factory.
        _ownMeter = meterFactory is null ? new Meter("Ocsp.Stapling") : null;
        Meter meter = meterFactory?.Create("Ocsp.Stapling") ?? _ownMeter!;
        _requests = meter.CreateCounter<long>("ocsp.stapling.proxy.requests", "{request}", "OCSP proxy requests by how they were answered (outcome).");
        _refused = meter.CreateCounter<long>(
            "ocsp.stapling.proxy.forwards_refused",
            "{request}",
            "Proxy requests that would have reached upstream, refused with tryLater by a per-client or per-responder concurrency or rate limit (limit, responder).");
        _timer = time.CreateTimer(static state => ((ProxyActivity)state!).Summarize(), this, SummaryInterval, SummaryInterval);
    }

    /// <summary>Counts one request's outcome.</summary>
    public void Count(ProxyOutcome outcome)
    {
        Interlocked.Increment(ref _counts[(int)outcome]);
        if (_requests.Enabled)
        {
            _requests.Add(1, new KeyValuePair<string, object?>("outcome", OutcomeTags[(int)outcome]));
        }
    }

    /// <summary>Counts a request refused by <paramref name="limit"/> on its way to <paramref name="upstream"/>.</summary>
    public void Limited(ProxyLimit limit, Uri upstream)
    {
        Count(ProxyOutcome.Limited);
        if (limit.IsClients())
        {
            Interlocked.Increment(ref _clientLimited);
        }

        _refused.Add(1, new KeyValuePair<string, object?>("limit", limit.Tag()), new KeyValuePair<string, object?>("responder", upstream.GetLeftPart(UriPartial.Authority)));
    }

    /// <summary>Counts a tryLater for an upstream failure, keeping its reason for the summary.</summary>
    public void Failed(string reason)
    {
        Count(ProxyOutcome.Failed);
        Volatile.Write(ref _lastFailure, reason);
    }

    /// <summary>Counts cached certificates evicted at their CA's cap.</summary>
    public void Evicted(int count) => Interlocked.Add(ref _evicted, count);

    /// <summary>Logs the interval's summary when anything out of the ordinary happened, and starts the next interval.</summary>
    public void Summarize()
    {
        long[] counts = new long[_counts.Length];
        for (int i = 0; i < counts.Length; i++)
        {
            counts[i] = Interlocked.Exchange(ref _counts[i], 0);
        }

        long clientLimited = Interlocked.Exchange(ref _clientLimited, 0);
        long evicted = Interlocked.Exchange(ref _evicted, 0);
        string lastFailure = Interlocked.Exchange(ref _lastFailure, null) ?? "none";
        IReadOnlyList<(string Client, long Refused)> top = _clients.TakeRefused(3);
        long limited = counts[(int)ProxyOutcome.Limited];
        long failed = counts[(int)ProxyOutcome.Failed];
        long unknown = counts[(int)ProxyOutcome.Unknown] + counts[(int)ProxyOutcome.UnknownCached];
        long rejected = counts[(int)ProxyOutcome.Rejected];
        if (limited + failed + unknown + rejected + evicted == 0)
        {
            return; // an ordinary minute: nothing to say
        }

        string topClients = top.Count == 0 ? "none" : string.Join(", ", top.Select(t => $"{t.Client} ({t.Refused})"));
        var summary = new Summary(
            counts.Sum(),
            counts[(int)ProxyOutcome.Served] + counts[(int)ProxyOutcome.Cached],
            limited,
            clientLimited,
            topClients,
            limited - clientLimited,
            unknown,
            counts[(int)ProxyOutcome.UnknownCached],
            failed,
            lastFailure,
            rejected,
            evicted);
        if (limited + failed > 0)
        {
            Log.ProxySummaryWarning(_logger, SummaryInterval, summary.ToString());
        }
        else
        {
            Log.ProxySummary(_logger, SummaryInterval, summary.ToString());
        }
    }

    public void Dispose()
    {
        _timer.Dispose();
        _ownMeter?.Dispose();
    }

    /// <summary>One interval's figures, written as one sentence.</summary>
    internal sealed record Summary(
        long Requests,
        long FromCache,
        long Limited,
        long ClientLimited,
        string TopClients,
        long ResponderLimited,
        long Unknown,
        long UnknownCached,
        long Failed,
        string LastFailure,
        long Rejected,
        long Evicted)
    {
        public override string ToString() =>
            $"{Requests} request(s), {FromCache} answered with a cached response; {Limited} refused with tryLater by a limit "
            + $"({ClientLimited} per client, most refused: {TopClients}; {ResponderLimited} per responder); {Unknown} answered unknown for serials "
            + $"their responder does not know ({UnknownCached} of them from the unknown cache); {Failed} tryLater for an upstream failure (last: {LastFailure}); "
            + $"{Rejected} rejected (not allowed, malformed, too large); {Evicted} cached certificate(s) evicted at their CA's cap";
    }
}
