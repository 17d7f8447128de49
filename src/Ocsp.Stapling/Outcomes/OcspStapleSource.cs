namespace Ocsp.Stapling;

/// <summary>
/// Where a staple came from: the closed set of sources, with the same names in <see cref="OcspStapleUpdatedEventArgs.Source"/>,
/// <see cref="OcspRefreshResult.Source"/>, <see cref="OcspCertificateState.StapleSource"/>, the log lines and the status page's JSON.
/// </summary>
public enum OcspStapleSource
{
    /// <summary>Fetched from the certificate's OCSP responder by this process.</summary>
    Responder,

    /// <summary>Read from the shared store (L2), written there by this process before a restart or by another node of the fleet, and validated again when read.</summary>
    SharedStore,

    /// <summary>Nothing was asked: the answer is what memory holds (a refresh inside the failure back-off, or with no responder to ask).</summary>
    Memory,
}
