using System.ComponentModel.DataAnnotations;
using Ocsp.Stapling.Internal;

namespace Ocsp.Stapling;

/// <summary>
/// How one endpoint decides on a client certificate's revocation (<see cref="OcspClientCertificateValidator"/>): every
/// certificate of its chain below the root is checked (<see cref="Scope"/>); revoked is always rejected; unknown by
/// <see cref="AcceptUnknown"/>; no valid answer, or none fresh enough (<see cref="MaxAnswerAge"/>), by
/// <see cref="FailureMode"/>. Endpoints with different policies share one cache of answers.
/// </summary>
public sealed class OcspClientCertificatePolicy
{
    /// <summary>Gets or sets what happens when there is no valid answer (responder down, garbage, timeout, no responder).</summary>
    /// <value>The default value is <see cref="OcspClientFailureMode.FailClosed"/>.</value>
    public OcspClientFailureMode FailureMode { get; set; } = OcspClientFailureMode.FailClosed;

    /// <summary>Gets or sets which certificates of the chain are checked.</summary>
    /// <value>The default value is <see cref="OcspRevocationScope.WholeChain"/>: the client certificate and every intermediate CA.</value>
    public OcspRevocationScope Scope { get; set; } = OcspRevocationScope.WholeChain;

    /// <summary>
    /// Gets or sets the age of the oldest answer a decision may rest on, counted from when it was fetched from the
    /// responder (by this server or another of the fleet): how long a certificate revoked at its CA can still be
    /// accepted here, at most. Certificates in use are asked again before their answer is this old; an older answer
    /// counts as none (the failure mode decides, and the responder is asked). Revoke a certificate at once with
    /// <see cref="OcspClientCertificateValidator.RecheckAsync"/>.
    /// </summary>
    /// <value>The default value is 1 hour.</value>
    [TimeSpanRange(OptionRanges.OneMinute, OptionRanges.MaxTimeSpan)]
    public TimeSpan MaxAnswerAge { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Gets or sets when a certificate is decided from its CA's CRL (RFC 5280) instead of OCSP: by default for
    /// certificates with an HTTP CRL distribution point and no OCSP responder. The CRL is fetched once for the whole CA,
    /// validated, shared through the store, refreshed before its nextUpdate and held in memory; past its nextUpdate
    /// without a newer one it decides nothing (the failure mode does).
    /// </summary>
    /// <value>The default value is <see cref="OcspCrlUse.WhenNoResponder"/>.</value>
    public OcspCrlUse CrlUse { get; set; } = OcspCrlUse.WhenNoResponder;

    /// <summary>Gets or sets a value indicating whether a validated <c>unknown</c> answer is accepted.</summary>
    /// <value>The default value is <see langword="false"/>: a certificate its CA's responder does not know is rejected.</value>
    public bool AcceptUnknown { get; set; }

    /// <summary>
    /// Gets or sets how long the asynchronous check (<see cref="OcspClientCertificateValidator.CheckAsync"/>: certificate
    /// authentication) waits for the first answer of a certificate not seen before; past it, the failure mode decides and
    /// the request goes on in the background, so the client's next attempt is decided by the answer.
    /// </summary>
    /// <value>The default value is 5 seconds.</value>
    [TimeSpanRange(OptionRanges.Zero, OptionRanges.OneDay)]
    public TimeSpan FirstAnswerTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Gets or sets how long the synchronous check (<see cref="OcspClientCertificateValidator.Check"/>: a TLS handshake's
    /// certificate callback) may block its thread on the shared store for a certificate not in memory. The responder is
    /// never waited for there: its request starts in the background and the failure mode decides this handshake.
    /// </summary>
    /// <value>The default value is 250 milliseconds.</value>
    [TimeSpanRange(OptionRanges.Zero, OptionRanges.OneMinute)]
    public TimeSpan StoreWaitTime { get; set; } = TimeSpan.FromMilliseconds(250);
}
