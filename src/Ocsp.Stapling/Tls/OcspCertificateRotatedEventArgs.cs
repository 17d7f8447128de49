namespace Ocsp.Stapling;

/// <summary>A watched certificate was replaced: <see cref="Current"/> is served now, <see cref="Previous"/> no longer.</summary>
/// <param name="previous">The certificate served until now (unregistered).</param>
/// <param name="current">The certificate served from now on.</param>
public sealed class OcspCertificateRotatedEventArgs(OcspStapledCertificate previous, OcspStapledCertificate current) : EventArgs
{
    /// <summary>Gets the certificate served until now; it is no longer registered.</summary>
    public OcspStapledCertificate Previous { get; } = previous;

    /// <summary>Gets the certificate served from now on.</summary>
    public OcspStapledCertificate Current { get; } = current;
}
