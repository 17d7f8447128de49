using System.Security.Cryptography.X509Certificates;

namespace Ocsp.Stapling.Internal;

/// <summary>
/// What the certificate-file watch and the start-up gate need of the context cache (<see cref="OcspStaplingContexts"/>):
/// a context per certificate, prepared with a staple before it is served, and removed after a rotation.
/// </summary>
internal interface IStapledContexts
{
    /// <summary>Gets every certificate a context was created for.</summary>
    IReadOnlyCollection<OcspStapledCertificate> Certificates { get; }

    /// <summary>The certificate's one hooked context; <paramref name="servedAtOnce"/> is false when the caller prepares it before serving it (a rotation).</summary>
    OcspStapledCertificate GetOrCreateEntry(X509Certificate2 certificate, X509Certificate2Collection? chain, bool servedAtOnce);

    /// <summary>
    /// The shared store, then the responder's first answer, until <paramref name="deadline"/>: what start-up and a
    /// rotation wait for. Logs a timeout; never throws but for <paramref name="cancellationToken"/>.
    /// </summary>
    /// <returns><see langword="true"/> when it waited for the responder.</returns>
    Task<bool> PrepareUntilAsync(OcspStapledCertificate certificate, CancellationToken deadline, CancellationToken cancellationToken);

    /// <summary>What the provider knows about <paramref name="certificate"/> (where its staple came from, its last failure).</summary>
    OcspCertificateState? GetState(OcspStapledCertificate certificate);

    /// <summary>Stops stapling <paramref name="certificate"/> (unregisters it, clears its context).</summary>
    bool Remove(X509Certificate2 certificate);
}
