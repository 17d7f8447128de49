using System.ComponentModel.DataAnnotations;
using Ocsp.Stapling.Internal;

namespace Ocsp.Stapling;

/// <summary>
/// The cache behind client-certificate revocation checks (<see cref="OcspClientCertificateValidator"/>,
/// <see cref="OcspStaplingOptions.ClientCertificates"/>, section <c>ClientCertificates</c>): which certificates are kept
/// and refreshed, and how often a certificate without an answer is asked about again. Responders and their overrides,
/// retries, limits and the shared store are the provider's (<see cref="OcspStaplingOptions.Fetch"/>).
/// </summary>
public sealed class OcspClientCertificateOptions
{
    /// <summary>
    /// Gets or sets how long a client certificate's answer is kept and refreshed after its last check: one not presented
    /// for this long is forgotten (no longer refreshed; its shared-store entry is left to expire at its nextUpdate: other
    /// servers may use it).
    /// Key: <c>ClientCertificates:IdleTime</c>.
    /// </summary>
    /// <value>The default value is 1 day.</value>
    [TimeSpanRange(OptionRanges.OneMinute, OptionRanges.MaxTimeSpan)]
    public TimeSpan IdleTime { get; set; } = TimeSpan.FromDays(1);

    /// <summary>
    /// Gets or sets how many certificates with an answer (client certificates and the CAs of their chains) are kept at
    /// most, a further one evicting the one checked least recently; as many again may be kept without one (unknown,
    /// failed, asked about), those dropped first when full.
    /// Key: <c>ClientCertificates:MaxCertificates</c>.
    /// </summary>
    /// <value>The default value is 10,000.</value>
    [Range(1, int.MaxValue)]
    public int MaxCertificates { get; set; } = 10_000;

    /// <summary>
    /// Gets or sets how long a certificate whose responder gave no valid answer is decided without asking again: checks in
    /// that time (a client retrying, a burst of handshakes) cost no upstream request. Key: <c>ClientCertificates:FailureRetryTime</c>.
    /// </summary>
    /// <value>The default value is 5 seconds: once the responder is back, the next check asks it within seconds.</value>
    [TimeSpanRange(OptionRanges.Zero, OptionRanges.MaxTimeSpan)]
    public TimeSpan FailureRetryTime { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Gets or sets how long a validated <c>unknown</c> answer is kept (at most until its nextUpdate); it is not refreshed.
    /// Key: <c>ClientCertificates:UnknownCacheTime</c>.
    /// </summary>
    /// <value>The default value is 10 minutes.</value>
    [TimeSpanRange(OptionRanges.Zero, OptionRanges.MaxTimeSpan)]
    public TimeSpan UnknownCacheTime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Gets or sets the largest CRL accepted, in bytes (fetched or read from the shared store): a larger one is refused
    /// unread, with the reason logged, and the CRL held keeps deciding. Key: <c>ClientCertificates:MaxCrlSize</c>.
    /// </summary>
    /// <value>The default value is 32 MiB (a CRL of 100,000 entries is about 4 MB).</value>
    [Range(1024, int.MaxValue)]
    public int MaxCrlSize { get; set; } = 32 * 1024 * 1024;
}
