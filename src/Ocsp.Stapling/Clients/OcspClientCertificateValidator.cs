using System.Security.Cryptography.X509Certificates;

namespace Ocsp.Stapling;

/// <summary>
/// Revocation checks of client certificates (mTLS) from the provider's validated, shared, refreshed OCSP cache. Each
/// certificate of a verified chain below its root is decided from the answer held in memory, else the shared store's,
/// else its responder's (AIA or <see cref="OcspFetchOptions.ResponderOverrides"/>), with one request per certificate
/// however many checks wait for it; the endpoint's <see cref="OcspClientCertificatePolicy"/> decides when there is no
/// valid answer. Certificates in use are kept and refreshed; one not checked for
/// <see cref="OcspClientCertificateOptions.IdleTime"/> is forgotten. Registered by <c>AddOcspStapling()</c>.
/// </summary>
/// <remarks>
/// These checks are about revocation only: the chain, validity period and key usage are checked before, with issuer
/// downloads off, against the configured roots (<see cref="OcspClientCertificateValidation"/>, the Kestrel and
/// certificate-authentication integrations). An abstract class rather than an interface, as
/// <see cref="OcspCertificateRegistry"/> is, so that members can be added after 1.0 without breaking a decorator or a fake.
/// </remarks>
public abstract class OcspClientCertificateValidator
{
    /// <summary>Initializes a new instance.</summary>
    protected OcspClientCertificateValidator()
    {
    }

    /// <summary>
    /// Decides on a client certificate, waiting for first answers up to <see cref="OcspClientCertificatePolicy.FirstAnswerTimeout"/>
    /// when none is held (no thread blocks). For certificate authentication and other asynchronous checks.
    /// </summary>
    /// <param name="chain">
    /// The verified chain: the client certificate first, then each issuer up to the root (as <c>X509Chain.ChainElements</c>
    /// lists them). Each certificate but the root is checked (<see cref="OcspClientCertificatePolicy.Scope"/>).
    /// </param>
    /// <param name="policy">The endpoint's policy.</param>
    /// <param name="cancellationToken">Cancels the wait (the requests go on for later checks).</param>
    /// <returns>The decision.</returns>
    /// <exception cref="ArgumentException">The chain is empty, or a certificate in it was not issued by the next.</exception>
    public abstract ValueTask<OcspClientCertificateDecision> CheckAsync(
        IReadOnlyList<X509Certificate2> chain, OcspClientCertificatePolicy policy, CancellationToken cancellationToken = default);

    /// <summary>
    /// Decides on a client certificate without waiting for a responder: from memory, else the shared store (blocking up
    /// to <see cref="OcspClientCertificatePolicy.StoreWaitTime"/>), else by the failure mode with the requests started in
    /// the background, so that the client's next attempt is decided by real answers. For the synchronous certificate
    /// callbacks of TLS (Kestrel's <c>ClientCertificateValidation</c>, <c>RemoteCertificateValidationCallback</c>).
    /// </summary>
    /// <param name="chain">The verified chain, the client certificate first (see <see cref="CheckAsync"/>).</param>
    /// <param name="policy">The endpoint's policy.</param>
    /// <returns>The decision.</returns>
    /// <exception cref="ArgumentException">The chain is empty, or a certificate in it was not issued by the next.</exception>
    public abstract OcspClientCertificateDecision Check(IReadOnlyList<X509Certificate2> chain, OcspClientCertificatePolicy policy);

    /// <summary>
    /// Makes the next decisions about <paramref name="certificate"/> rest on an answer fetched from now on (a certificate
    /// you were told is compromised, before its CA's responder is due to be asked again): the answer held stops counting
    /// and its responder is asked at once. The task completes when that answer (or the failure) is in.
    /// </summary>
    /// <param name="certificate">A client certificate (or a CA certificate of a client chain) that was checked.</param>
    /// <param name="cancellationToken">Cancels the wait (the request goes on).</param>
    /// <returns><see langword="true"/> when the certificate was kept and asked again; <see langword="false"/> when it is not kept (its next check asks anyway).</returns>
    public abstract Task<bool> RecheckAsync(X509Certificate2 certificate, CancellationToken cancellationToken = default);

    /// <summary>Gets the certificates kept now (client certificates and the CAs of their chains), with their answers and last decisions.</summary>
    /// <returns>A snapshot.</returns>
    public abstract IReadOnlyList<OcspClientCertificateState> GetStates();

    /// <summary>Gets the CRLs held for the checks (one per CA and distribution point), with their numbers, times and entries.</summary>
    /// <returns>A snapshot; empty when no check has used a CRL.</returns>
    public virtual IReadOnlyList<OcspCrlState> GetCrlStates() => [];
}
