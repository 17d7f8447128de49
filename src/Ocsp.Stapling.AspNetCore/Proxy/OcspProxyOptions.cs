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
    /// whose CertID (SHA-1 or SHA-256) names one of them is fetched once through the provider (single flight,
    /// validated against that CA), kept in the shared store, answered from it and refreshed in the background, until
    /// nobody has asked for it for <see cref="ForgetAfter"/>. CertIDs of other issuers are never cached: they cannot be validated.
    /// </summary>
    public IList<OcspProxyCertificateAuthority> CertificateAuthorities { get; } = [];

    /// <summary>
    /// Gets or sets how long a certificate of <see cref="CertificateAuthorities"/> stays cached and refreshed after its last
    /// request. Its shared-store entry is not deleted then: it expires at its nextUpdate.
    /// </summary>
    /// <value>The default value is 7 days.</value>
    [Range(typeof(TimeSpan), OptionRanges.OneMinute, OptionRanges.MaxTimeSpan)]
    public TimeSpan ForgetAfter { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// Gets or sets how many certificates of one of <see cref="CertificateAuthorities"/> are cached at most. Past the cap,
    /// requests for further certificates of that CA are forwarded uncached (and logged) until some are forgotten.
    /// </summary>
    /// <value>The default value is 10,000.</value>
    [Range(1, int.MaxValue)]
    public int MaxCachedCertificatesPerAuthority { get; set; } = 10_000;

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
    /// Gets or sets how many forwarded (uncached: nonce, several certificates, CertIDs of unknown CAs) requests may be
    /// under way at once to one upstream responder. Past it, requests are answered <c>tryLater</c> at once, counted
    /// (<c>ocsp.stapling.proxy.forwards_refused</c>) and logged: the proxy cannot be used to flood a CA's responder.
    /// </summary>
    /// <value>The default value is 8.</value>
    [Range(1, 100_000)]
    public int MaxConcurrentForwardsPerResponder { get; set; } = 8;

    /// <summary>Gets or sets how many forwarded requests may start per second to one upstream responder (a token bucket of one second's worth); past it, <c>tryLater</c>.</summary>
    /// <value>The default value is 10.</value>
    [Range(0.01, 100_000d)]
    public double MaxForwardsPerSecondPerResponder { get; set; } = 10;

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

        foreach (OcspProxyCertificateAuthority authority in CertificateAuthorities)
        {
            if (authority.Responder is { } responder && !Responders.IsValid(responder))
            {
                yield return new ValidationResult(
                    $"OcspProxyOptions.CertificateAuthorities: the responder '{responder}' of '{authority.Certificate.Subject}' is not an absolute http(s) URL.", [nameof(CertificateAuthorities)]);
            }

            if (!IsCertificateAuthority(authority.Certificate))
            {
                yield return new ValidationResult(
                    $"OcspProxyOptions.CertificateAuthorities: '{authority.Certificate.Subject}' is not a CA certificate (no basicConstraints CA:TRUE); give the issuer, not a server certificate.",
                    [nameof(CertificateAuthorities)]);
            }
        }
    }
}
