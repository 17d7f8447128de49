using System.ComponentModel.DataAnnotations;
using Ocsp.Stapling.Internal;

namespace Ocsp.Stapling;

/// <summary>
/// The TLS component (<see cref="OcspStaplingContexts"/>, Kestrel): how long a start waits for first staples, and how
/// certificate files are watched for renewals (<see cref="OcspStaplingOptions.Tls"/>, section <c>Tls</c>).
/// </summary>
public sealed class OcspTlsOptions
{
    /// <summary>
    /// Gets or sets how long a TLS server's start (and a certificate rotation) waits for the first OCSP answer of a
    /// certificate the shared store has no staple for: the endpoint starts accepting once every certificate's first
    /// fetch has answered (a staple or a failure) or this bound has passed, so that the first handshake is stapled on a
    /// cold start. A handshake itself never waits on the network. Key: <c>Tls:StartupFetchTimeout</c>.
    /// </summary>
    /// <value>The default value is 5 seconds.</value>
    [TimeSpanRange(OptionRanges.Zero, OptionRanges.MaxTimeSpan)]
    public TimeSpan StartupFetchTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Gets or sets how long a watched certificate file must stay unchanged before it is reloaded: ACME clients write
    /// the certificate and the key a moment apart. Zero reloads on the first change (a pair caught half-written is then
    /// refused, and the next change retries). Key: <c>Tls:CertificateReloadDelay</c>.
    /// </summary>
    /// <value>The default value is 1 second.</value>
    [TimeSpanRange(OptionRanges.Zero, OptionRanges.MaxTimeSpan)]
    public TimeSpan CertificateReloadDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Gets or sets how often watched certificate files are also re-read without a change notification (network file
    /// systems, symbolic links replaced elsewhere). Zero turns the poll off. Key: <c>Tls:CertificatePollInterval</c>.
    /// </summary>
    /// <value>The default value is 1 minute.</value>
    [TimeSpanRange(OptionRanges.Zero, OptionRanges.MaxTimeSpan)]
    public TimeSpan CertificatePollInterval { get; set; } = TimeSpan.FromMinutes(1);
}
