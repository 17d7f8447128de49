using System.Security.Cryptography.X509Certificates;

namespace Ocsp.Stapling;

/// <summary>
/// The certificates the provider keeps stapled, and the notifications consumers (the Kestrel hook, file exporters, proxies)
/// subscribe to. Registering fetches eagerly in the background; certificates can be added and removed at any time (rotation).
/// Take it from dependency injection after <c>AddOcspStapling()</c>.
/// </summary>
/// <remarks>
/// An abstract class rather than an interface, as <c>HybridCache</c> is, so that members can be added after 1.0 (with a
/// default behaviour) without breaking a class derived from it: a decorator, or a fake in an application's tests.
/// </remarks>
public abstract class OcspCertificateRegistry
{
    /// <summary>Initializes a new instance.</summary>
    protected OcspCertificateRegistry()
    {
    }

    /// <summary>Raised when a certificate got a newer validated response (from its responder or the shared cache).</summary>
    public abstract event EventHandler<OcspStapleUpdatedEventArgs>? StapleUpdated;

    /// <summary>Raised when a certificate's staple stopped being served with nothing valid in its place: expired at nextUpdate, or unregistered.</summary>
    public abstract event EventHandler<OcspStapleRemovedEventArgs>? StapleRemoved;

    /// <summary>Raised when a fetch or refresh fails; the previous staple stays in place until its nextUpdate.</summary>
    public abstract event EventHandler<OcspStapleFailedEventArgs>? StapleFailed;

    /// <summary>Raised when a validated response says a certificate is revoked.</summary>
    public abstract event EventHandler<OcspCertificateRevokedEventArgs>? CertificateRevoked;

    /// <summary>Raised when a certificate is newly registered.</summary>
    public abstract event EventHandler<OcspCertificateEventArgs>? CertificateRegistered;

    /// <summary>Raised when a certificate is unregistered.</summary>
    public abstract event EventHandler<OcspCertificateEventArgs>? CertificateUnregistered;

    /// <summary>Registers a certificate to keep stapled. Idempotent. A valid response in the shared cache is served at once.</summary>
    /// <param name="certificate">The server certificate.</param>
    /// <param name="issuer">Its issuer's certificate.</param>
    /// <returns><see langword="true"/> when newly registered.</returns>
    /// <exception cref="ArgumentException"><paramref name="issuer"/> did not issue <paramref name="certificate"/>.</exception>
    public abstract bool Register(X509Certificate2 certificate, X509Certificate2 issuer);

    /// <summary>
    /// Registers many certificates at once (a start-up list, a crt-list of thousands): as <see cref="Register(X509Certificate2, X509Certificate2)"/>
    /// for each, at O(1) each, with one summary log line instead of one per certificate. Every pair is checked before any
    /// is registered, so a wrong issuer registers nothing.
    /// </summary>
    /// <param name="certificates">The certificates with their issuers.</param>
    /// <returns>How many were newly registered (the others already were).</returns>
    /// <exception cref="ArgumentException">A pair's issuer did not issue its certificate, or an element is null; the message names its position.</exception>
    public abstract int RegisterAll(IEnumerable<(X509Certificate2 Certificate, X509Certificate2 Issuer)> certificates);

    /// <summary>Stops keeping a certificate stapled (after rotation) and drops its staple from memory.</summary>
    /// <param name="certificate">The certificate.</param>
    /// <returns><see langword="true"/> when it was registered.</returns>
    public abstract bool Unregister(X509Certificate2 certificate);

    /// <summary>
    /// Makes sure a registered certificate holds whatever valid staple the shared cache (L2) has, without asking the
    /// responder: what a TLS server awaits once at start-up so that its first handshake is stapled after a restart.
    /// Bounded by <see cref="OcspSharedStoreOptions.Timeout"/>; never throws for a cache failure.
    /// </summary>
    /// <param name="certificate">A registered certificate.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The staple now servable, or <see langword="null"/>.</returns>
    /// <exception cref="InvalidOperationException"><paramref name="certificate"/> is not registered.</exception>
    public abstract Task<OcspStaple?> WarmUpAsync(X509Certificate2 certificate, CancellationToken cancellationToken = default);

    /// <summary>
    /// Asks for a refetch of the certificate's response now (the <c>X-Prune-From-Cache</c> of a caching proxy; after a CA
    /// re-issued a response), and waits for it. It never makes things worse: the held response keeps being served until a
    /// valid newer one replaces it; a prune within <see cref="OcspRefreshOptions.MinimumPruneInterval"/> of the last one,
    /// or inside the failure back-off after a failed fetch, asks nobody. To stop serving a response at once, unregister the certificate.
    /// </summary>
    /// <param name="certificate">A registered certificate.</param>
    /// <param name="cancellationToken">Cancels the wait (not the refetch).</param>
    /// <returns><see langword="true"/> when a refetch ran; <see langword="false"/> when the certificate is not registered or the prune was ignored (rate limit, back-off; logged).</returns>
    public abstract Task<bool> PruneAsync(X509Certificate2 certificate, CancellationToken cancellationToken = default);

    /// <summary>
    /// Refreshes a registered certificate now and says what came of it: the shared cache's response when it is valid and
    /// not yet due, else the responder's. Shares a refresh already under way. Inside the failure back-off after a failed
    /// attempt it asks nobody and returns what is held with the last failure, so that callers cannot turn a responder
    /// outage into a request storm. Never throws for responder or cache failures.
    /// </summary>
    /// <param name="certificate">A registered certificate.</param>
    /// <param name="cancellationToken">Cancels the wait (a shared refresh still completes).</param>
    /// <returns>The response held afterwards (any status) and, when the attempt failed, its reason.</returns>
    /// <exception cref="InvalidOperationException"><paramref name="certificate"/> is not registered.</exception>
    public abstract Task<OcspRefreshResult> RefreshAsync(X509Certificate2 certificate, CancellationToken cancellationToken = default);

    /// <summary>Returns what the provider knows about one registered certificate (its certificate, or another instance with the same bytes).</summary>
    /// <param name="certificate">The certificate.</param>
    /// <returns>Its state, or <see langword="null"/> when it is not registered.</returns>
    public abstract OcspCertificateState? GetState(X509Certificate2 certificate);

    /// <summary>Returns what the provider knows about a certificate known only by its CertID (a caching proxy's, a client certificate's CA): they are among <see cref="GetStates"/> too.</summary>
    /// <param name="certificateId">The CertID it was registered with.</param>
    /// <returns>Its state, or <see langword="null"/> when it is not registered.</returns>
    public abstract OcspCertificateState? GetState(OcspCertificateId certificateId);

    /// <summary>Returns a snapshot of every registered certificate's state: leaf certificates and certificates registered by CertID (<see cref="OcspCertificateState.Certificate"/> <see langword="null"/>).</summary>
    /// <returns>The states.</returns>
    public abstract IReadOnlyList<OcspCertificateState> GetStates();
}
