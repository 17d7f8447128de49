using System.ComponentModel.DataAnnotations;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Http;
using Ocsp.Stapling.AspNetCore.Internal;
using Ocsp.Stapling.Internal;

namespace Ocsp.Stapling.AspNetCore;

/// <summary>Options of the caching OCSP proxy endpoint (<see cref="Microsoft.AspNetCore.Builder.OcspProxyEndpointRouteBuilderExtensions.MapOcspProxy"/>).</summary>
public sealed class OcspProxyOptions : IValidatableObject
{
    /// <summary>
    /// Gets the responder URLs the proxy may contact besides the AIA responders of the registered certificates. A request
    /// whose <c>Host</c> names one of them is forwarded to that URL; a <c>Host</c> naming any other host than the proxy
    /// itself is refused with 403 and causes no outbound connection.
    /// </summary>
    public IList<Uri> AllowedResponders { get; } = [];

    /// <summary>
    /// Gets the CAs whose certificates are cached on their first request: a single-certificate request without a nonce
    /// whose CertID (SHA-1 or SHA-256) names one of them is answered from the shared store when it holds a valid answer,
    /// else asked of the responder once (concurrent requests share it), validated against that CA. A good or revoked
    /// answer is cached, kept in the shared store and refreshed in the background until nobody has asked for it for
    /// <see cref="ForgetAfter"/>; an unknown answer (a serial the CA never issued) is relayed as signed and kept
    /// <see cref="UnknownAnswerCacheTime"/>, never refreshed; a failure is answered tryLater and keeps nothing. CertIDs of
    /// other issuers are never cached: they cannot be validated.
    /// </summary>
    public IList<OcspProxyCertificateAuthority> CertificateAuthorities { get; } = [];

    /// <summary>
    /// Gets or sets how long a certificate of <see cref="CertificateAuthorities"/> stays cached and refreshed after its last
    /// request. Then it is forgotten: unregistered, and its shared-store entry (file, Redis key, database row) deleted.
    /// </summary>
    /// <value>The default value is 7 days.</value>
    [Range(typeof(TimeSpan), OptionRanges.OneMinute, OptionRanges.MaxTimeSpan)]
    public TimeSpan ForgetAfter { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// Gets or sets how many certificates of one of <see cref="CertificateAuthorities"/> are cached at most. At the cap, a
    /// further one evicts the one asked for least recently (forgotten as after <see cref="ForgetAfter"/>): a client
    /// cannot lock the cache, and what is asked for often stays.
    /// </summary>
    /// <value>The default value is 10,000.</value>
    [Range(1, int.MaxValue)]
    public int MaxCachedCertificatesPerAuthority { get; set; } = 10_000;

    /// <summary>
    /// Gets or sets how long a responder's signed <c>unknown</c> answer for a CertID of a known CA is kept and given again
    /// (never past its nextUpdate, and never refreshed): the same junk serial asked again costs nobody a request.
    /// </summary>
    /// <value>The default value is 10 minutes.</value>
    [Range(typeof(TimeSpan), OptionRanges.Zero, OptionRanges.OneDay)]
    public TimeSpan UnknownAnswerCacheTime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Gets or sets how many unknown answers are kept at most (when full, the expired ones go, then all of them).</summary>
    /// <value>The default value is 10,000.</value>
    [Range(1, 10_000_000)]
    public int MaxCachedUnknownAnswers { get; set; } = 10_000;

    /// <summary>
    /// Gets the responders this proxy fronts under their own public names (<c>serve --backend</c>): a request whose
    /// <c>Host</c> and path name an <see cref="OcspProxyBackend.PublicUrl"/> is answered from the validated cache for
    /// certificates of <see cref="CertificateAuthorities"/> (asked of the backends on a miss and at each refresh), and
    /// forwarded uncached to the backends otherwise (nonce, several certificates, another issuer). GET requests there
    /// follow RFC 5019: an encoded request over <see cref="OcspHttpEncoding.MaxGetRequestLength"/> bytes gets 414, one that
    /// does not decode gets <c>malformedRequest</c>; <c>Cache-Control: no-cache</c> never bypasses the cache. Any other
    /// path under a public name gets 404. The public names are never contacted.
    /// </summary>
    public IList<OcspProxyBackend> Backends { get; } = [];

    /// <summary>
    /// Gets or sets how long a backend of <see cref="Backends"/> that failed (no connection, a timeout, an HTTP error, an
    /// answer that does not validate) is tried only after the others; once it has passed, it is tried in its turn again.
    /// </summary>
    /// <value>The default value is 30 seconds.</value>
    [Range(typeof(TimeSpan), OptionRanges.Zero, OptionRanges.OneDay)]
    public TimeSpan FailedBackendSkipTime { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets further host names that mean "the proxy itself" in a <c>Host</c> header (besides its local address and <c>localhost</c>).</summary>
    public IList<string> ProxyHostNames { get; } = [];

    /// <summary>Gets or sets the largest POST body accepted; larger gets 413.</summary>
    /// <value>The default value is 10 KiB (a single-certificate request is about 100 bytes).</value>
    [Range(1, int.MaxValue)]
    public int MaxRequestBodySize { get; set; } = 10 * 1024;

    /// <summary>Gets or sets the largest upstream answer relayed for a forwarded request; larger is answered <c>tryLater</c>.</summary>
    /// <value>The default value is 64 KiB, the validator's default <see cref="OcspValidationOptions.MaxResponseSize"/>.</value>
    [Range(256, 16 * 1024 * 1024)]
    public int MaxResponseSize { get; set; } = 64 * 1024;

    /// <summary>Gets or sets the longest GET request target accepted; longer gets 414.</summary>
    /// <value>The default value is 2048 characters (RFC 5019 GET requests are under 255).</value>
    [Range(1, int.MaxValue)]
    public int MaxRequestTargetLength { get; set; } = 2048;

    /// <summary>Gets or sets the cap on <c>Cache-Control: max-age</c> (which otherwise runs until the response's nextUpdate).</summary>
    /// <value>The default value is 1 day.</value>
    [Range(typeof(TimeSpan), OptionRanges.Zero, OptionRanges.MaxTimeSpan)]
    public TimeSpan MaxCacheAge { get; set; } = TimeSpan.FromDays(1);

    /// <summary>Gets or sets the time limit of a forwarded (uncached) request to the upstream responder.</summary>
    /// <value>The default value is 10 seconds.</value>
    [Range(typeof(TimeSpan), OptionRanges.Zero, OptionRanges.MaxTimeSpan, MinimumIsExclusive = true)]
    public TimeSpan UpstreamTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Gets or sets how many requests the proxy sends for its clients (forwards of nonce, multi-certificate and unknown-CA
    /// requests, and first requests for certificates of <see cref="CertificateAuthorities"/>) may be under way at once to
    /// one upstream responder. Past it, requests are answered <c>tryLater</c> at once, counted
    /// (<c>ocsp.stapling.proxy.forwards_refused</c>) and summarised in the log once a minute: the proxy cannot be used to
    /// flood a CA's responder. The background refreshes of what it caches are limited by <c>OcspFetchOptions</c> instead.
    /// </summary>
    /// <value>The default value is 8.</value>
    [Range(1, 100_000)]
    public int MaxConcurrentForwardsPerResponder { get; set; } = 8;

    /// <summary>Gets or sets how many forwarded requests may start per second to one upstream responder (a token bucket of one second's worth); past it, <c>tryLater</c>.</summary>
    /// <value>The default value is 10.</value>
    [Range(0.01, 100_000d)]
    public double MaxForwardsPerSecondPerResponder { get; set; } = 10;

    /// <summary>
    /// Gets or sets how many requests of one client (an IPv4 address, or an IPv6 /64) that may reach upstream — forwards,
    /// and first requests for certificates of <see cref="CertificateAuthorities"/> — may be under way at once. Past it, its
    /// further ones are answered <c>tryLater</c> at once; what the proxy holds is answered whatever the limits. Keep it
    /// below <see cref="MaxConcurrentForwardsPerResponder"/>, so that one client cannot take every slot of a responder.
    /// </summary>
    /// <value>The default value is 4, half of <see cref="MaxConcurrentForwardsPerResponder"/>'s default.</value>
    [Range(1, 100_000)]
    public int MaxConcurrentForwardsPerClient { get; set; } = 4;

    /// <summary>
    /// Gets or sets how many requests of one client may ask a responder per second (a token bucket of one second's worth);
    /// past it, <c>tryLater</c> at once. Keep it below <see cref="MaxForwardsPerSecondPerResponder"/>, so that a client
    /// flooding with junk serials leaves the responder's allowance to the others.
    /// </summary>
    /// <value>The default value is 5, half of <see cref="MaxForwardsPerSecondPerResponder"/>'s default.</value>
    [Range(0.01, 100_000d)]
    public double MaxForwardsPerSecondPerClient { get; set; } = 5;

    /// <summary>Gets or sets who may prune a cached response with the <c>X-Prune-From-Cache</c> header; others get 403.</summary>
    /// <value>The default value allows loopback callers only.</value>
    [Required]
    public Func<HttpContext, bool> PrunePolicy { get; set; } = static context =>
        context.Connection.RemoteIpAddress is { } address && IPAddress.IsLoopback(address);

    private static bool IsCertificateAuthority(X509Certificate2 certificate) =>
        certificate.Extensions.OfType<X509BasicConstraintsExtension>().Any(c => c.CertificateAuthority);

    /// <inheritdoc />
    IEnumerable<ValidationResult> IValidatableObject.Validate(ValidationContext validationContext)
    {
        foreach (Uri responder in AllowedResponders)
        {
            if (!Responders.IsValid(responder))
            {
                yield return new ValidationResult($"OcspProxyOptions.AllowedResponders: '{responder}' is not an absolute http(s) URL.", [nameof(AllowedResponders)]);
            }
        }

        var publicUrls = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (OcspProxyBackend front in Backends)
        {
            if (!Responders.IsValid(front.PublicUrl) || front.PublicUrl.Query.Length > 0)
            {
                yield return new ValidationResult($"OcspProxyOptions.Backends: the public URL '{front.PublicUrl}' is not an absolute http(s) URL without a query.", [nameof(Backends)]);
                continue;
            }

            if (!publicUrls.Add(BackendFronts.Key(front.PublicUrl)))
            {
                yield return new ValidationResult($"OcspProxyOptions.Backends: the public URL '{front.PublicUrl}' is listed twice; list all its backends in one entry.", [nameof(Backends)]);
            }

            if (front.Backends.Count == 0)
            {
                yield return new ValidationResult($"OcspProxyOptions.Backends: '{front.PublicUrl}' has no backend.", [nameof(Backends)]);
            }

            foreach (Uri backend in front.Backends)
            {
                if (!Responders.IsValid(backend))
                {
                    yield return new ValidationResult($"OcspProxyOptions.Backends: the backend '{backend}' of '{front.PublicUrl}' is not an absolute http(s) URL.", [nameof(Backends)]);
                }
                else if (Backends.Any(f => Responders.IsValid(f.PublicUrl) && BackendFronts.SameAuthority(f.PublicUrl, backend)))
                {
                    yield return new ValidationResult(
                        $"OcspProxyOptions.Backends: the backend '{backend}' of '{front.PublicUrl}' has the host and port of a public URL, which this proxy answers itself: give the responder's own address.",
                        [nameof(Backends)]);
                }
            }

            if (AllowedResponders.Any(r => Responders.IsValid(r) && BackendFronts.SameAuthority(r, front.PublicUrl)))
            {
                yield return new ValidationResult(
                    $"OcspProxyOptions.Backends: '{front.PublicUrl}' is also an allowed responder; the proxy fronts it and never contacts it: remove it from AllowedResponders.",
                    [nameof(Backends)]);
            }
        }

        foreach (OcspProxyCertificateAuthority authority in CertificateAuthorities)
        {
            if (authority.Responder is { } responder && !Responders.IsValid(responder))
            {
                yield return new ValidationResult(
                    $"OcspProxyOptions.CertificateAuthorities: the responder '{responder}' of '{CertificateNames.Subject(authority.Certificate)}' is not an absolute http(s) URL.", [nameof(CertificateAuthorities)]);
            }

            if (!IsCertificateAuthority(authority.Certificate))
            {
                yield return new ValidationResult(
                    $"OcspProxyOptions.CertificateAuthorities: '{CertificateNames.Subject(authority.Certificate)}' is not a CA certificate (no basicConstraints CA:TRUE); give the issuer, not a server certificate.",
                    [nameof(CertificateAuthorities)]);
            }
        }
    }
}
