using System.Security.Cryptography.X509Certificates;

namespace Ocsp.Stapling;

/// <summary>Raised when a certificate is registered with, or unregistered from, the provider.</summary>
public sealed class OcspCertificateEventArgs : EventArgs
{
    internal OcspCertificateEventArgs(X509Certificate2 certificate, X509Certificate2 issuer)
    {
        Certificate = certificate;
        Issuer = issuer;
    }

    /// <summary>Gets the certificate.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>Gets its issuer.</summary>
    public X509Certificate2 Issuer { get; }
}
