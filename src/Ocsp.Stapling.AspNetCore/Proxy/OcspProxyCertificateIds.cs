using Microsoft.Extensions.Logging;
using Ocsp.Stapling.Internal;

namespace Ocsp.Stapling.AspNetCore.Internal;

/// <summary>
/// The certificates of the proxy's known CAs, learned as clients ask for them: <see cref="OnDemandCertificates"/> (the
/// rule client certificates follow too) with one group per CA, capped by <see cref="OcspProxyCacheOptions.MaxCertificatesPerAuthority"/>,
/// and the proxy's own concerns on top: which CA a CertID names, the per-client and per-responder limits a first request
/// must pass, a caching front's backends.
/// </summary>
internal sealed class OcspProxyCertificateIds : IDisposable
{
    // A failure keeps nothing: the next request for the CertID may ask again (within its client's limits). A retry time
    // would let one client's request — naming a responder that refuses it — hold back every other client's for a while.
    private static readonly TimeSpan FailureRetryTime = TimeSpan.Zero;

    private readonly OnDemandCertificates _certificates;
    private readonly ForwardLimits _forwardLimits;
    private readonly TimeProvider _time;
    private readonly Authority[] _authorities;

    public OcspProxyCertificateIds(OcspResponseProvider provider, ForwardLimits forwardLimits, ProxyActivity activity, OcspProxyOptions options, TimeProvider time, ILogger logger)
    {
        _forwardLimits = forwardLimits;
        _time = time;
        _authorities = [.. options.CertificateAuthorities.Select(a => new Authority(a, options.Cache.MaxCertificatesPerAuthority))];
        _certificates = new OnDemandCertificates(
            provider,
            new OnDemandSettings(options.Cache.ForgetAfter, options.Cache.UnknownAnswerTime, FailureRetryTime, options.Cache.MaxUnknownAnswers),
            new OnDemandEvents
            {
                Registered = (entry, answer) => Log.ProxyCertificateIdCached(
                    logger, entry.Id.ToString(), CertificateNames.Subject(entry.Issuer), (answer.AnsweredBy ?? entry.Responders[0]).ToString(), answer.Source ?? OcspStapleSource.Responder),
                CapReached = group => Log.ProxyCertificateIdCapReached(logger, group.Name, group.Cap),
                Evicted = entry =>
                {
                    Log.ProxyCertificateIdEvicted(logger, entry.Id.ToString(), CertificateNames.Subject(entry.Issuer));
                    activity.Evicted(1);
                },
                Forgotten = count => Log.ProxyCertificateIdsForgotten(logger, count, options.Cache.ForgetAfter),
            },
            time);
    }

    /// <summary>Gets the number of CertIDs cached now (registered).</summary>
    public int Count => _authorities.Sum(a => a.Group.Count);

    /// <summary>Gets the certificates behind it (tests).</summary>
    internal OnDemandCertificates Certificates => _certificates;

    /// <summary>Gets the last sweep started by the timer (tests wait for it).</summary>
    internal Task LastSweep => _certificates.LastSweep;

    /// <summary>The known CA that <paramref name="id"/> names (issuer name and key hash), or <see langword="null"/>.</summary>
    public OcspProxyCertificateAuthority? AuthorityOf(OcspCertificateId id) => Find(id)?.Options;

    /// <summary>Records a request for a CertID (it counts as asked: not forgotten, evicted last).</summary>
    public void Touch(OcspCertificateId id) => _certificates.Find(id);

    /// <summary>The signed unknown kept for <paramref name="id"/> while it lasts, and until when it may be cached downstream.</summary>
    public bool TryGetUnknown(OcspCertificateId id, out OcspStaple? unknown, out DateTimeOffset until)
    {
        DateTimeOffset now = _time.GetUtcNow();
        if (_certificates.Find(id) is { } entry && _certificates.ValidResponse(entry, now) is { Status: OcspCertificateStatus.Unknown } held)
        {
            (unknown, until) = (held, entry.State.Until);
            return true;
        }

        (unknown, until) = (null, default);
        return false;
    }

    /// <summary>Drops what is kept for a CertID that is not registered (a prune: the next request asks the responder); says whether something was.</summary>
    public bool Drop(OcspCertificateId id) => _certificates.Find(id) is { } entry && _certificates.Drop(entry);

    /// <summary>The first request for <paramref name="id"/> under way, to join; <see langword="null"/> when there is none.</summary>
    public Task<OnDemandAnswer>? FlightOf(OcspCertificateId id) => _certificates.FlightOf(id)?.Result;

    /// <summary>
    /// The first request for <paramref name="id"/>, a CertID of a known CA not cached yet: the shared store's answer, else
    /// the responder's (asked of <paramref name="responder"/>, or of the backends of <paramref name="front"/> in their order,
    /// only when <paramref name="client"/> has a token left and the responder's limits allow it, and not within the retry
    /// time of a failure), registered when good or revoked. Concurrent calls for one CertID share one run.
    /// </summary>
    public async Task<OnDemandAnswer> AskAsync(OcspCertificateId id, Uri responder, BackendFront? front, ClientLimits.Lease client)
    {
        Authority authority = Find(id) ?? throw new ArgumentException($"{id} names none of the proxy's CAs.", nameof(id));
        IReadOnlyList<Uri> responders = front?.Ordered() ?? [responder];
        OnDemandEntry entry = _certificates.Enter(id, authority.Options.Certificate, responders, authority.Group);
        DateTimeOffset now = _time.GetUtcNow();
        if (!_certificates.MayAsk(entry, now, out OnDemandAnswer? refusal))
        {
            return refusal!;
        }

        IDisposable? upstream = null;
        Flight<OnDemandAnswer> flight = _certificates.Ask(entry, responders, () =>
        {
            if (!client.TryTakeToken())
            {
                return ProxyLimit.ClientRate;
            }

            upstream = _forwardLimits.TryAcquire(responder, out ProxyLimit? limit);
            return limit;
        });
        OnDemandAnswer answer;
        try
        {
            answer = await flight.Result.ConfigureAwait(false);
        }
        finally
        {
            upstream?.Dispose();
        }

        if (front is not null && answer.Source == OcspStapleSource.Responder)
        {
            // Those tried before the one that answered failed (or all of them, when none did).
            front.Record(responders, answer.AnsweredBy, answer.Failure?.Message ?? "");
        }

        return answer;
    }

    /// <summary>Forgets every CertID not asked for within <see cref="OcspProxyCacheOptions.ForgetAfter"/> (unregistered; its store entry expires at its nextUpdate).</summary>
    public Task<int> SweepAsync() => _certificates.SweepAsync();

    public void Dispose() => _certificates.Dispose();

    private Authority? Find(OcspCertificateId id)
    {
        foreach (Authority authority in _authorities)
        {
            if (authority.Names(id))
            {
                return authority;
            }
        }

        return null;
    }

    private sealed class Authority(OcspProxyCertificateAuthority options, int cap)
    {
        // The CA's CertID hashes in the two algorithms clients use, computed once: an unknown issuer costs two comparisons per CA.
        private readonly OcspCertificateId _sha1 = OcspCertificateId.Create(options.Certificate, [1], OcspHashAlgorithm.Sha1);
        private readonly OcspCertificateId _sha256 = OcspCertificateId.Create(options.Certificate, [1], OcspHashAlgorithm.Sha256);

        public OcspProxyCertificateAuthority Options { get; } = options;

        public OnDemandGroup Group { get; } = new(CertificateNames.Subject(options.Certificate), cap);

        public bool Names(OcspCertificateId id) => id.HashAlgorithm switch
        {
            OcspHashAlgorithm.Sha1 => SameIssuer(id, _sha1),
            OcspHashAlgorithm.Sha256 => SameIssuer(id, _sha256),
            _ => id.IsIssuedBy(Options.Certificate),
        };

        private static bool SameIssuer(OcspCertificateId id, OcspCertificateId ours) =>
            id.IssuerKeyHash.Span.SequenceEqual(ours.IssuerKeyHash.Span) && id.IssuerNameHash.Span.SequenceEqual(ours.IssuerNameHash.Span);
    }
}
