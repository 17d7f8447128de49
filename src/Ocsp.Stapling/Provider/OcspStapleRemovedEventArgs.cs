using System.Security.Cryptography.X509Certificates;

namespace Ocsp.Stapling;

/// <summary>Raised when a certificate's staple stopped being served and nothing valid replaces it.</summary>
public sealed class OcspStapleRemovedEventArgs : EventArgs
{
    internal OcspStapleRemovedEventArgs(X509Certificate2 certificate, OcspStaple staple, OcspStapleRemovalReason reason)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(staple);
        Certificate = certificate;
        Staple = staple;
        Reason = reason;
    }

    /// <summary>Gets the certificate.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>Gets the staple that is no longer served.</summary>
    public OcspStaple Staple { get; }

    /// <summary>Gets why it was removed.</summary>
    public OcspStapleRemovalReason Reason { get; }
}
