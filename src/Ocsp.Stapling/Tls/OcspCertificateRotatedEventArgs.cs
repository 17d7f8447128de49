namespace Ocsp.Stapling;

/// <summary>A watched certificate was replaced: <see cref="Current"/> is served now, <see cref="Previous"/> no longer.</summary>
public sealed class OcspCertificateRotatedEventArgs : EventArgs
{
    internal OcspCertificateRotatedEventArgs(OcspStapledCertificate previous, OcspStapledCertificate current)
    {
        Previous = previous;
        Current = current;
    }

    /// <summary>Gets the certificate served until now; it is no longer registered.</summary>
    public OcspStapledCertificate Previous { get; }

    /// <summary>Gets the certificate served from now on.</summary>
    public OcspStapledCertificate Current { get; }
}
