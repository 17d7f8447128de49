using System.Security.Cryptography.X509Certificates;

namespace Ocsp.Stapling;

/// <summary>
/// Revocation checks of client certificates (mTLS) from the provider's validated, shared, refreshed OCSP cache: a
/// certificate is decided from the answer held in memory, else the shared store's, else its responder's (AIA or the
/// override of <see cref="OcspFetchOptions.ResponderOverrides"/>), with one request per certificate however many checks
/// wait for it. Certificates checked recently are kept and refreshed before their answer expires, and forgotten after
/// <see cref="OcspClientCertificateOptions.IdleTime"/>. Registered by <c>AddOcspStapling()</c>.
/// </summary>
/// <remarks>
/// These checks are about revocation only: the certificate's chain, validity period and key usage are checked by the
/// TLS layer or the authentication handler before (see <c>OcspClientCertificateValidation</c> for an <c>SslStream</c> server).
/// </remarks>
public interface IOcspClientCertificateValidator
{
    /// <summary>
    /// Decides on <paramref name="certificate"/>, waiting for its first answer up to
    /// <see cref="OcspClientCertificatePolicy.FirstAnswerTimeout"/> when none is held (no thread blocks). For certificate
    /// authentication and other asynchronous checks.
    /// </summary>
    /// <param name="certificate">The client certificate (its chain already validated).</param>
    /// <param name="issuer">Its issuer's certificate.</param>
    /// <param name="policy">The endpoint's policy.</param>
    /// <param name="cancellationToken">Cancels the wait (the request goes on for later checks).</param>
    /// <returns>The decision.</returns>
    /// <exception cref="ArgumentException"><paramref name="issuer"/> did not issue <paramref name="certificate"/>.</exception>
    ValueTask<OcspClientCertificateDecision> CheckAsync(
        X509Certificate2 certificate, X509Certificate2 issuer, OcspClientCertificatePolicy policy, CancellationToken cancellationToken = default);

    /// <summary>
    /// Decides on <paramref name="certificate"/> without waiting for a responder: from memory, else the shared store
    /// (blocking up to <see cref="OcspClientCertificatePolicy.StoreWaitTime"/>), else by the failure mode with the request
    /// started in the background, so that the client's next attempt is decided by a real answer. For the synchronous
    /// certificate callbacks of TLS (Kestrel's <c>ClientCertificateValidation</c>, <c>RemoteCertificateValidationCallback</c>).
    /// </summary>
    /// <param name="certificate">The client certificate (its chain already validated).</param>
    /// <param name="issuer">Its issuer's certificate.</param>
    /// <param name="policy">The endpoint's policy.</param>
    /// <returns>The decision.</returns>
    /// <exception cref="ArgumentException"><paramref name="issuer"/> did not issue <paramref name="certificate"/>.</exception>
    OcspClientCertificateDecision Check(X509Certificate2 certificate, X509Certificate2 issuer, OcspClientCertificatePolicy policy);

    /// <summary>Gets the client certificates kept now, with their answers and last decisions.</summary>
    /// <returns>A snapshot.</returns>
    IReadOnlyList<OcspClientCertificateState> GetStates();
}
