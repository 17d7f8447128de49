using System.ComponentModel.DataAnnotations;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
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
    /// <see cref="OcspProxyCacheOptions.ForgetAfter"/>; an unknown answer (a serial the CA never issued) is relayed as
    /// signed and kept <see cref="OcspProxyCacheOptions.UnknownAnswerTime"/>, never refreshed; a failure is answered
    /// tryLater and keeps nothing. CertIDs of other issuers are never cached: they cannot be validated.
    /// </summary>
    public IList<OcspProxyCertificateAuthority> CertificateAuthorities { get; } = [];

    /// <summary>Gets further host names that mean "the proxy itself" in a <c>Host</c> header (besides its local address and <c>localhost</c>).</summary>
    public IList<string> ProxyHostNames { get; } = [];

    /// <summary>Gets the limits on what clients send and on the upstream traffic they can cause.</summary>
    [ValidateObjectMembers]
    public OcspProxyLimitOptions Limits { get; } = new();

    /// <summary>Gets what is kept of the certificates learned on their first request, and how long clients may cache answers.</summary>
    [ValidateObjectMembers]
    public OcspProxyCacheOptions Cache { get; } = new();

    /// <summary>Gets the responders fronted under their own public names, and how a failing backend is skipped.</summary>
    [ValidateObjectMembers]
    public OcspProxyBackendOptions Backends { get; } = new();

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
        foreach (OcspProxyBackend front in Backends.Responders)
        {
            if (!Responders.IsValid(front.PublicUrl) || front.PublicUrl.Query.Length > 0)
            {
                yield return new ValidationResult($"OcspProxyOptions.Backends.Responders: the public URL '{front.PublicUrl}' is not an absolute http(s) URL without a query.", [nameof(Backends)]);
                continue;
            }

            if (!publicUrls.Add(BackendFronts.Key(front.PublicUrl)))
            {
                yield return new ValidationResult($"OcspProxyOptions.Backends.Responders: the public URL '{front.PublicUrl}' is listed twice; list all its backends in one entry.", [nameof(Backends)]);
            }

            if (front.Backends.Count == 0)
            {
                yield return new ValidationResult($"OcspProxyOptions.Backends.Responders: '{front.PublicUrl}' has no backend.", [nameof(Backends)]);
            }

            foreach (Uri backend in front.Backends)
            {
                if (!Responders.IsValid(backend))
                {
                    yield return new ValidationResult($"OcspProxyOptions.Backends.Responders: the backend '{backend}' of '{front.PublicUrl}' is not an absolute http(s) URL.", [nameof(Backends)]);
                }
                else if (Backends.Responders.Any(f => Responders.IsValid(f.PublicUrl) && BackendFronts.SameAuthority(f.PublicUrl, backend)))
                {
                    yield return new ValidationResult(
                        $"OcspProxyOptions.Backends.Responders: the backend '{backend}' of '{front.PublicUrl}' has the host and port of a public URL, which this proxy answers itself: give the responder's own address.",
                        [nameof(Backends)]);
                }
            }

            if (AllowedResponders.Any(r => Responders.IsValid(r) && BackendFronts.SameAuthority(r, front.PublicUrl)))
            {
                yield return new ValidationResult(
                    $"OcspProxyOptions.Backends.Responders: '{front.PublicUrl}' is also an allowed responder; the proxy fronts it and never contacts it: remove it from AllowedResponders.",
                    [nameof(Backends)]);
            }
        }

        foreach (OcspProxyCertificateAuthority authority in CertificateAuthorities)
        {
            if (authority.Responder is null && AllowedResponders.Count == 0 && Backends.Responders.Count == 0)
            {
                yield return new ValidationResult(
                    $"OcspProxyOptions.CertificateAuthorities: '{CertificateNames.Subject(authority.Certificate)}' has no responder to ask: give its responder, allow it (AllowedResponders) or front it (Backends).",
                    [nameof(CertificateAuthorities)]);
            }

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
