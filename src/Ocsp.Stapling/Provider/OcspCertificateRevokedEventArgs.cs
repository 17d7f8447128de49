using System.Security.Cryptography.X509Certificates;

namespace Ocsp.Stapling;

/// <summary>Raised when a validated response says a registered certificate is revoked.</summary>
public sealed class OcspCertificateRevokedEventArgs : EventArgs
{
    internal OcspCertificateRevokedEventArgs(X509Certificate2 certificate, OcspStaple staple)
    {
        Certificate = certificate;
        Staple = staple;
    }

    /// <summary>Gets the revoked certificate.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>Gets the response, with <see cref="OcspStaple.RevocationTime"/> and <see cref="OcspStaple.RevocationReason"/>.</summary>
    public OcspStaple Staple { get; }
}
