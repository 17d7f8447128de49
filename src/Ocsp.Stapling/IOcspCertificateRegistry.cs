using System.Security.Cryptography.X509Certificates;

namespace Ocsp.Stapling;

/// <summary>
/// The certificates the provider keeps stapled, and the notifications consumers (the Kestrel hook, file exporters, proxies)
/// subscribe to. Registering fetches eagerly in the background; certificates can be added and removed at any time (rotation).
/// </summary>
public interface IOcspCertificateRegistry
{
    /// <summary>Raised when a certificate's staple changes (new response, or removal at nextUpdate).</summary>
    event EventHandler<OcspStapleUpdatedEventArgs>? StapleUpdated;

    /// <summary>Raised when a fetch or refresh fails; the previous staple stays in place until its nextUpdate.</summary>
    event EventHandler<OcspStapleFailedEventArgs>? StapleFailed;

    /// <summary>Raised when a validated response says a certificate is revoked.</summary>
    event EventHandler<OcspCertificateRevokedEventArgs>? CertificateRevoked;

    /// <summary>Registers a certificate to keep stapled. Idempotent. A valid response in the shared cache is served at once.</summary>
    /// <param name="certificate">The server certificate.</param>
    /// <param name="issuer">Its issuer's certificate.</param>
    /// <returns><see langword="true"/> when newly registered.</returns>
    /// <exception cref="ArgumentException"><paramref name="issuer"/> did not issue <paramref name="certificate"/>.</exception>
    bool Register(X509Certificate2 certificate, X509Certificate2 issuer);

    /// <summary>Stops keeping a certificate stapled (after rotation) and drops its staple from memory.</summary>
    /// <param name="certificate">The certificate.</param>
    /// <returns><see langword="true"/> when it was registered.</returns>
    bool Unregister(X509Certificate2 certificate);

    /// <summary>Returns a snapshot of every registered certificate's state.</summary>
    /// <returns>The states.</returns>
    IReadOnlyList<OcspCertificateState> GetStates();
}
