using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;
using Ocsp.Stapling.Internal;

namespace Ocsp.Stapling.AspNetCore.Internal;

/// <summary>
/// The caching OCSP proxy (the seed <c>ocsp_proxy</c>, done safely). Single-certificate requests without a nonce for a
/// registered certificate, or for a certificate of a known CA (<see cref="OcspProxyOptions.CertificateAuthorities"/>,
/// cached once its responder vouched for it), are answered from the provider's validated store; nonce and
/// multi-certificate requests, and CertIDs of other issuers, are forwarded to the one allowed upstream and answered
/// uncached. Whatever may reach upstream for a client is limited per client and per responder, without a queue.
/// </summary>
internal sealed partial class OcspProxy : IDisposable
{
    public const string PruneHeader = "X-Prune-From-Cache";

    // OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED } (RFC 6960 4.2.1): the answer when there is no basic response.
    private static readonly byte[] MalformedRequest = [0x30, 0x03, 0x0A, 0x01, 0x01];
    private static readonly byte[] TryLater = [0x30, 0x03, 0x0A, 0x01, 0x03];

    private readonly OcspCertificateRegistry registry;
    private readonly OcspResponseProvider provider;
    private readonly IHttpClientFactory httpClients;
    private readonly OcspProxyOptions options;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly OcspProxyCertificateIds certificateIds;
    private readonly OcspProxyIndex index;
    private readonly ForwardLimits forwardLimits;
    private readonly ClientLimits clientLimits;
    private readonly ProxyActivity activity;
    private readonly BackendFronts fronts;
    private readonly GetRequestMemo getRequests = new();
    private readonly PathString prefix;

    public OcspProxy(
        OcspResponseProvider provider, IHttpClientFactory httpClients, OcspProxyOptions options, TimeProvider time, ILogger logger, IMeterFactory? meterFactory = null,
        PathString prefix = default)
    {
        this.prefix = prefix;
        registry = provider;
        this.provider = provider;
        this.httpClients = httpClients;
        this.options = options;
        this.time = time;
        this.logger = logger;
        forwardLimits = new ForwardLimits(options, time);
        clientLimits = new ClientLimits(options, time);
        activity = new ProxyActivity(clientLimits, time, logger, meterFactory);
        fronts = new BackendFronts(options, time, logger);
        certificateIds = new OcspProxyCertificateIds(provider, forwardLimits, activity, options, time, logger);

        // The index follows the registry one certificate at a time: subscribed first, then filled, so none is missed.
        index = new OcspProxyIndex(options.AllowedResponders, options.CertificateAuthorities);
        registry.CertificateRegistered += (_, e) => Track(e.Certificate);
        registry.CertificateUnregistered += (_, e) => index.Remove(e.Certificate, e.Issuer);
        foreach (OcspCertificateState state in registry.GetStates())
        {
            if (state.Certificate is { } certificate)
            {
                Track(certificate);
            }
        }
    }

    /// <summary>Gets the CertIDs of known CAs the proxy caches (tests).</summary>
    internal OcspProxyCertificateIds CertificateIds => certificateIds;

    /// <summary>Gets the counts and the summary line (tests).</summary>
    internal ProxyActivity Activity => activity;

    /// <summary>Gets the decoded GET requests held (tests).</summary>
    internal GetRequestMemo GetRequests => getRequests;

    /// <summary>
    /// The proxy as the whole application (<c>ocsp-stapling serve</c>): what its endpoint route would match — GET or POST at
    /// or below its prefix — without routing, which a server that does nothing else does not need. Other paths get 404,
    /// other methods 405 with <c>Allow</c>, as from the route.
    /// </summary>
    public Task HandleAsApplicationAsync(HttpContext context)
    {
        HttpRequest request = context.Request;
        if (prefix.HasValue && !request.Path.StartsWithSegments(prefix, StringComparison.OrdinalIgnoreCase))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }

        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsPost(request.Method))
        {
            context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            context.Response.Headers.Allow = "GET, POST";
            return Task.CompletedTask;
        }

        return HandleAsync(context);
    }

    public async Task HandleAsync(HttpContext context)
    {
        HttpRequest request = context.Request;
        BackendFront? front = null;
        if (fronts.Any && fronts.Find(request.Host, RawPath(context), out bool covered) is { } named)
        {
            if (!covered)
            {
                await NotFoundAsync(context, $"Not an OCSP URL of this front: its responder is {named.PublicUrl}.").ConfigureAwait(false);
                return;
            }

            front = named;
        }

        OcspRequest ocspRequest;
        try
        {
            OcspRequest? read = HttpMethods.IsPost(request.Method)
                ? await ReadPostAsync(context).ConfigureAwait(false)
                : ReadGetRequest(context, front);
            if (read is null)
            {
                activity.Count(ProxyOutcome.Rejected);
                return; // the status (400, 413, 414, 415) is set
            }

            ocspRequest = read;
        }
        catch (OcspFormatException ex)
        {
            Log.ProxyMalformedRequest(logger, LogText.Quote(ex.Message));
            activity.Count(ProxyOutcome.Rejected);
            await WriteUncachedAsync(context, MalformedRequest).ConfigureAwait(false);
            return;
        }

        string? refusal = null;
        if (NonConforming(ocspRequest) is { } impossible)
        {
            // No CA issues such a serial (RFC 5280 §4.1.2.2): answered here, never forwarded, retried or counted upstream.
            Log.ProxyMalformedRequest(logger, $"a serial number of {impossible.SerialNumber.Length} octets, over RFC 5280's {OcspCertificateId.MaxSerialOctets}");
            activity.Count(ProxyOutcome.Rejected);
            await WriteUncachedAsync(context, MalformedRequest).ConfigureAwait(false);
            return;
        }

        if ((front?.PublicUrl ?? ResolveUpstream(context, ocspRequest, out refusal)) is not { } upstream)
        {
            await RefuseAsync(context, refusal!).ConfigureAwait(false);
            return;
        }

        OcspCertificateId first = ocspRequest.CertificateIds[0];
        bool cacheable = ocspRequest.CertificateIds.Count == 1 && !ocspRequest.HasNonce;
        bool prune = cacheable && request.Headers.ContainsKey(PruneHeader);
        if (prune && !options.PrunePolicy(context))
        {
            await RefuseAsync(context, $"{PruneHeader} is not allowed for this client.").ConfigureAwait(false);
            return;
        }

        // A listed certificate (SHA-1 CertID, as its registration asks).
        if (cacheable && index.Find(first) is { } listed && first.HashAlgorithm == OcspHashAlgorithm.Sha1)
        {
            X509Certificate2 certificate = listed.Certificate;
            if (!prune && provider.ValidResponse(certificate, time.GetUtcNow()) is { } held)
            {
                // The hit: what was validated when it was stored, with its headers made then; no state object, no log text.
                ServedLog(listed.DisplayName, held);
                activity.Count(ProxyOutcome.Served);
                await WriteCachedAsync(context, held).ConfigureAwait(false);
                return;
            }

            if (prune)
            {
                // A refetch, not a deletion: the held response is served until a valid newer one arrives (rate-limited, back-off respected).
                Pruned(first, await registry.PruneAsync(certificate, context.RequestAborted).ConfigureAwait(false));
            }

            await ServeFromStoreAsync(context, upstream, listed.DisplayName, () => registry.GetState(certificate), token => registry.RefreshAsync(certificate, token)).ConfigureAwait(false);
            return;
        }

        // A certificate of a known CA: cached once its responder vouched for it; a junk serial is answered as its responder signed it.
        if (cacheable && certificateIds.AuthorityOf(first) is not null)
        {
            if (!prune && provider.ValidResponse(first, time.GetUtcNow()) is { } held)
            {
                certificateIds.Touch(first);
                ServedLog(first, held);
                activity.Count(ProxyOutcome.Served);
                await WriteCachedAsync(context, held).ConfigureAwait(false);
                return;
            }

            await HandleKnownCaAsync(context, first, upstream, front, prune).ConfigureAwait(false);
            return;
        }

        await ForwardAsync(context, upstream, front, ocspRequest.Encoded).ConfigureAwait(false);
    }

    /// <summary>
    /// The upstream for this request: the allowed responder its <c>Host</c> names, or, when the <c>Host</c> is the proxy
    /// itself, the responder of the certificate (or issuer) its CertID names. Anything else is refused before any I/O.
    /// </summary>
    private Uri? ResolveUpstream(HttpContext context, OcspRequest request, out string? refusal)
    {
        HostString host = context.Request.Host;
        string name = host.Host;
        int port = host.Port ?? (context.Request.IsHttps ? 443 : 80);
        refusal = null;
        if (host.HasValue && index.AllowedResponderAsSent(host.Value) is { } exact)
        {
            return exact; // "responder:port" as sent (the usual Host of a request for a responder): no parsing
        }

        if (name.Length > 0 && index.AllowedResponder(name, port) is { } named)
        {
            return named;
        }

        if (name.Length > 0 && !IsProxyItself(context, name))
        {
            refusal = $"Responder host '{LogText.Quote(host.Value, 100)}' is not allowed: this proxy only contacts its allowed responders.";
            return null;
        }

        Uri? upstream = null;
        foreach (OcspCertificateId id in request.CertificateIds)
        {
            Uri? responder = index.ResponderFor(id);
            if (responder is null || (upstream is not null && upstream != responder))
            {
                refusal = responder is null
                    ? $"No allowed responder is known for {id}: register its certificate or allow its responder."
                    : "The request names certificates of different responders.";
                return null;
            }

            upstream = responder;
        }

        return upstream;
    }

    /// <summary>The first CertID whose serial no CA issues (a loop: this runs on every request).</summary>
    private static OcspCertificateId? NonConforming(OcspRequest request)
    {
        IReadOnlyList<OcspCertificateId> ids = request.CertificateIds;
        for (int i = 0; i < ids.Count; i++)
        {
            if (!ids[i].HasConformingSerial)
            {
                return ids[i];
            }
        }

        return null;
    }

    private bool IsProxyItself(HttpContext context, string host)
    {
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
            || options.ProxyHostNames.Contains(host, StringComparer.OrdinalIgnoreCase))
        {
            return true;
        }

        return IPAddress.TryParse(host.Trim('[', ']'), out IPAddress? address)
            && (address.Equals(context.Connection.LocalIpAddress) || IPAddress.IsLoopback(address) && context.Connection.LocalIpAddress is { } local && IPAddress.IsLoopback(local));
    }

    /// <summary>
    /// A CertID of a known CA: from the store when cached; from the unknown cache when its responder said unknown lately;
    /// otherwise a first request, within the client's and the responder's limits.
    /// </summary>
    private async Task HandleKnownCaAsync(HttpContext context, OcspCertificateId id, Uri upstream, BackendFront? front, bool prune)
    {
        if (registry.GetState(id) is not null)
        {
            certificateIds.Touch(id);
            if (prune)
            {
                Pruned(id, await provider.PruneAsync(id, context.RequestAborted).ConfigureAwait(false));
            }

            await ServeFromStoreAsync(context, upstream, id.ToString(), () => registry.GetState(id), token => provider.RefreshAsync(id, token)).ConfigureAwait(false);
            return;
        }

        if (prune)
        {
            // Nothing cached to refetch; an unknown answer held is dropped, so this request asks the responder again.
            Pruned(id, certificateIds.Drop(id));
        }
        else if (certificateIds.TryGetUnknown(id, out OcspStaple? unknown, out DateTimeOffset until))
        {
            Log.ProxyUnknown(logger, id.ToString(), "the unknown cache");
            activity.Count(ProxyOutcome.UnknownCached);
            await WriteCachedAsync(context, unknown!, until).ConfigureAwait(false);
            return;
        }

        // Joining a first request under way costs nobody anything: no limit applies. Starting one takes one of the
        // client's slots (its token only if the responder must be asked).
        OnDemandAnswer answer;
        if (certificateIds.FlightOf(id) is { } underWay)
        {
            answer = await underWay.ConfigureAwait(false);
        }
        else
        {
            using ClientLimits.Lease? client = clientLimits.TryEnter(context.Connection.RemoteIpAddress, out ProxyLimit? limit);
            answer = client is not null ? await certificateIds.AskAsync(id, upstream, front, client).ConfigureAwait(false)
                : certificateIds.FlightOf(id) is { } startedMeanwhile ? await startedMeanwhile.ConfigureAwait(false) // a burst: its first request won the race
                : OnDemandAnswer.Limited(limit!.Value);
        }

        switch (answer.Kind)
        {
            case OnDemandAnswerKind.Valid:
                Log.ProxyServed(logger, id.ToString(), answer.Response!.Status);
                activity.Count(ProxyOutcome.Cached);
                await WriteCachedAsync(context, answer.Response).ConfigureAwait(false);
                break;
            case OnDemandAnswerKind.Unknown:
                Log.ProxyUnknown(logger, id.ToString(), "its responder");
                activity.Count(ProxyOutcome.Unknown);
                await WriteCachedAsync(context, answer.Response!, answer.Until).ConfigureAwait(false);
                break;
            case OnDemandAnswerKind.Limited:
                await LimitedAsync(context, upstream, (ProxyLimit)answer.Limit!).ConfigureAwait(false);
                break;
            default:
                Log.ProxyUpstreamFailed(logger, Authority(upstream), answer.Reason);
                activity.Failed(answer.Reason);
                await WriteUncachedAsync(context, TryLater).ConfigureAwait(false);
                break;
        }
    }

    /// <summary>Refused by a per-client or per-responder limit: tryLater at once, with <c>Retry-After: 1</c>; counted, summarised, one Debug line.</summary>
    private Task LimitedAsync(HttpContext context, Uri upstream, ProxyLimit limit)
    {
        Log.ProxyLimited(logger, context.Connection.RemoteIpAddress?.ToString() ?? "(no address)", Authority(upstream), limit.Tag());
        activity.Limited(limit, upstream);
        context.Response.Headers.RetryAfter = "1";
        return WriteUncachedAsync(context, TryLater);
    }

    /// <summary>A 403 with its reason: one Debug line, counted in the summary (a flood of them is one line a minute).</summary>
    private async Task RefuseAsync(HttpContext context, string reason)
    {
        Log.ProxyRefused(logger, LogText.Quote(context.Request.Host.Value), context.Connection.RemoteIpAddress?.ToString() ?? "(no address)", reason);
        activity.Count(ProxyOutcome.Rejected);
        context.Response.StatusCode = StatusCodes.Status403Forbidden;
        await context.Response.WriteAsync(reason, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>A 404 with its reason (a path under a fronted responder's public name that is not its OCSP URL).</summary>
    private async Task NotFoundAsync(HttpContext context, string reason)
    {
        Log.ProxyRefused(logger, LogText.Quote(context.Request.Host.Value), context.Connection.RemoteIpAddress?.ToString() ?? "(no address)", reason);
        activity.Count(ProxyOutcome.Rejected);
        context.Response.StatusCode = StatusCodes.Status404NotFound;
        await context.Response.WriteAsync(reason, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>The Debug line of an answer from the store, its text made only when Debug is on.</summary>
    private void ServedLog(object certificate, OcspStaple staple)
    {
        if (logger.IsEnabled(LogLevel.Debug))
        {
            Log.ProxyServed(logger, certificate.ToString()!, staple.Status);
        }
    }

    private void Pruned(OcspCertificateId id, bool refetched) =>
        Log.ProxyPruned(logger, id.ToString(), refetched ? "refetched" : "ignored (rate limit or failure back-off, or nothing held)");

    private async Task ServeFromStoreAsync(
        HttpContext context, Uri upstream, string name, Func<OcspCertificateState?> current, Func<CancellationToken, Task<OcspRefreshResult>> refresh)
    {
        // The held response when valid now, whatever its status: a proxy relays revocation (stapling policy does not apply).
        OcspCertificateState? state = current();
        OcspStaple? staple = state?.Staple is { } held && held.IsValidAt(time.GetUtcNow()) ? held : null;
        if (staple is null && state is not null)
        {
            // A refresh reads the shared store and may ask the responder: inside the client's limits, as a first request.
            using ClientLimits.Lease? client = clientLimits.TryEnter(context.Connection.RemoteIpAddress, out ProxyLimit? limit);
            if (client is null)
            {
                await LimitedAsync(context, upstream, limit!.Value).ConfigureAwait(false);
                return;
            }

            try
            {
                staple = (await refresh(context.RequestAborted).ConfigureAwait(false)).Response;
            }
            catch (InvalidOperationException)
            {
                staple = null; // unregistered meanwhile (rotation, or forgotten): nothing to serve
            }
        }

        if (staple is null)
        {
            Log.ProxyNoResponse(logger, name);
            activity.Failed($"no valid response held for {name} and its refresh gave none");
            await WriteUncachedAsync(context, TryLater).ConfigureAwait(false);
            return;
        }

        Log.ProxyServed(logger, name, staple.Status);
        activity.Count(ProxyOutcome.Served);
        await WriteCachedAsync(context, staple).ConfigureAwait(false);
    }

    public void Dispose()
    {
        certificateIds.Dispose();
        activity.Dispose();
    }

    /// <summary>Adds a registered certificate to the index with the responders the provider asks (overrides included); gone again if unregistered meanwhile.</summary>
    private void Track(X509Certificate2 certificate)
    {
        if (registry.GetState(certificate) is { } state)
        {
            index.Add(state.Certificate!, state.Issuer, state.ResponderUris);
            if (registry.GetState(certificate) is null)
            {
                index.Remove(state.Certificate!, state.Issuer);
            }
        }
    }

    /// <summary>
    /// An authoritative answer from the store, with RFC 9919 §6.2 (formerly RFC 5019) cache headers: <c>max-age</c> never
    /// reaching past nextUpdate, <c>ETag</c> the SHA-256 of the response in hex, <c>Last-Modified</c> thisUpdate,
    /// <c>Expires</c> nextUpdate; never <c>no-cache</c> or <c>no-store</c>. The headers of a stored response are made once
    /// (<see cref="CachedAnswer"/>). An unknown answer is cached downstream no longer than the proxy keeps it (<paramref name="until"/>).
    /// </summary>
    private Task WriteCachedAsync(HttpContext context, OcspStaple staple, DateTimeOffset? until = null)
    {
        DateTimeOffset now = time.GetUtcNow();
        CachedAnswer answer = CachedAnswer.For(staple);

        // A client's "no-cache" is deliberately not honoured (it would let anyone drive upstream load).
        HttpResponse response = context.Response;
        IHeaderDictionary headers = response.Headers;
        headers.CacheControl = until is { } end ? CachedAnswer.Format(end, now, options.Cache.MaxClientCacheAge) : answer.CacheControl(now, options.Cache.MaxClientCacheAge);
        headers.Expires = until is { } expires ? expires.ToString("R", CultureInfo.InvariantCulture) : answer.Expires;
        headers.LastModified = answer.LastModified;
        headers.ETag = answer.ETag;
        if (context.Request.Headers.IfNoneMatch.Count > 0
            && context.Request.GetTypedHeaders().IfNoneMatch is { Count: > 0 } conditions
            && conditions.Any(c => c.Equals(EntityTagHeaderValue.Any) || string.Equals(c.Tag.Value, answer.ETag, StringComparison.Ordinal)))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return Task.CompletedTask;
        }

        response.ContentType = OcspHttpEncoding.ResponseMediaType;
        response.ContentLength = staple.Encoded.Length;
        return response.Body.WriteAsync(staple.Encoded, context.RequestAborted).AsTask();
    }

    /// <summary>
    /// A signed answer relayed for one client (a nonce, several certificates, an unknown CA): authoritative, so never
    /// <c>no-store</c> (RFC 9919 §6.2), but for this client only and not to be reused.
    /// </summary>
    private static Task WriteRelayedAsync(HttpContext context, ReadOnlyMemory<byte> body) =>
        WriteAsync(context, body, "private, max-age=0, no-transform, must-revalidate");

    /// <summary>An unsigned status (<c>malformedRequest</c>, <c>tryLater</c>): not authoritative, never stored.</summary>
    private static Task WriteUncachedAsync(HttpContext context, ReadOnlyMemory<byte> body) => WriteAsync(context, body, "no-store");

    private static async Task WriteAsync(HttpContext context, ReadOnlyMemory<byte> body, string cacheControl)
    {
        HttpResponse response = context.Response;
        response.Headers.CacheControl = cacheControl;
        response.ContentType = OcspHttpEncoding.ResponseMediaType;
        response.ContentLength = body.Length;
        await response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
    }
}
