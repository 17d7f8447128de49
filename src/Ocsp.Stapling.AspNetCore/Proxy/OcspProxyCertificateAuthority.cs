using System.Security.Cryptography.X509Certificates;

namespace Ocsp.Stapling.AspNetCore;

/// <summary>
/// A CA whose certificates the caching OCSP proxy caches on their first request, with nothing listed beforehand (what
/// <c>ocsp_proxy</c> does for every certificate). Answers are validated against this CA: its signature or that of a
/// responder it delegated to, the CertID, and the time window.
/// </summary>
public sealed class OcspProxyCertificateAuthority
{
    /// <summary>Initializes a new instance.</summary>
    /// <param name="certificate">The CA certificate (the issuer of the certificates asked about).</param>
    /// <param name="responder">
    /// The responder of its certificates, for requests addressed to the proxy itself; <see langword="null"/> when every
    /// request names its responder (the <c>Host</c> of the seed's convention, or Apache's <c>SSLOCSPProxyURL</c>).
    /// It becomes an allowed responder.
    /// </param>
    public OcspProxyCertificateAuthority(X509Certificate2 certificate, Uri? responder = null)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        Certificate = certificate;
        Responder = responder;
    }

    /// <summary>Gets the CA certificate.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>Gets the responder for requests addressed to the proxy itself, if any.</summary>
    public Uri? Responder { get; }
}
