using System.ComponentModel.DataAnnotations;
using Ocsp.Stapling.Internal;

namespace Ocsp.Stapling;

/// <summary>
/// How one endpoint decides on a client certificate's revocation (<see cref="IOcspClientCertificateValidator"/>):
/// revoked is always rejected; unknown by <see cref="AcceptUnknown"/>; no valid answer by <see cref="FailureMode"/>.
/// Endpoints with different policies share one cache of answers.
/// </summary>
public sealed class OcspClientCertificatePolicy
{
    /// <summary>Gets or sets what happens when there is no valid answer (responder down, garbage, timeout, no responder).</summary>
    /// <value>The default value is <see cref="OcspClientFailureMode.FailClosed"/>.</value>
    public OcspClientFailureMode FailureMode { get; set; } = OcspClientFailureMode.FailClosed;

    /// <summary>Gets or sets a value indicating whether a validated <c>unknown</c> answer is accepted.</summary>
    /// <value>The default value is <see langword="false"/>: a certificate its CA's responder does not know is rejected.</value>
    public bool AcceptUnknown { get; set; }

    /// <summary>
    /// Gets or sets how long the asynchronous check (<see cref="IOcspClientCertificateValidator.CheckAsync"/>: certificate
    /// authentication) waits for the first answer of a certificate not seen before; past it, the failure mode decides and
    /// the request goes on in the background, so the client's next attempt is decided by the answer.
    /// </summary>
    /// <value>The default value is 5 seconds.</value>
    [Range(typeof(TimeSpan), OptionRanges.Zero, OptionRanges.OneDay)]
    public TimeSpan FirstAnswerTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Gets or sets how long the synchronous check (<see cref="IOcspClientCertificateValidator.Check"/>: a TLS handshake's
    /// certificate callback) may block its thread on the shared store for a certificate not in memory. The responder is
    /// never waited for there: its request starts in the background and the failure mode decides this handshake.
    /// </summary>
    /// <value>The default value is 250 milliseconds.</value>
    [Range(typeof(TimeSpan), OptionRanges.Zero, OptionRanges.OneMinute)]
    public TimeSpan StoreWaitTime { get; set; } = TimeSpan.FromMilliseconds(250);
}
