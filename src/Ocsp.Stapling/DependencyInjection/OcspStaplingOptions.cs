using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Ocsp.Stapling;

/// <summary>
/// Options of OCSP stapling (<c>AddOcspStapling(…)</c>, or a configuration section such as <c>OcspStapling</c>), grouped
/// by concern: <see cref="Refresh"/> (scheduling), <see cref="Fetch"/> (HTTP, Polly.Core retry and circuit breaker),
/// <see cref="Validation"/>, <see cref="SharedStore"/>, <see cref="Tls"/> (start-up and certificate files) and
/// <see cref="ClientCertificates"/>. Each group's keys are its section (<c>Refresh:AtFraction</c>, <c>Fetch:Retry:MaxAttempts</c>…);
/// every value is checked when the host starts.
/// </summary>
public sealed class OcspStaplingOptions
{
    /// <summary>Gets or sets a value indicating whether a response saying "revoked" is stapled. Off by default: the handshake then carries no staple. Key: <c>StapleRevoked</c>.</summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool StapleRevoked { get; set; }

    /// <summary>Gets when responses are refreshed and how failures back off (section <c>Refresh</c>).</summary>
    [ValidateObjectMembers]
    public OcspRefreshOptions Refresh { get; } = new();

    /// <summary>Gets how responses are fetched (section <c>Fetch</c>).</summary>
    [ValidateObjectMembers]
    public OcspFetchOptions Fetch { get; } = new();

    /// <summary>Gets the validation limits applied to every response (section <c>Validation</c>).</summary>
    [ValidateObjectMembers]
    public OcspValidationOptions Validation { get; } = new();

    /// <summary>Gets how the shared store (L2) is used, whatever the backend (section <c>SharedStore</c>).</summary>
    [ValidateObjectMembers]
    public OcspSharedStoreOptions SharedStore { get; } = new();

    /// <summary>Gets the TLS component's start-up bound and certificate-file watching (section <c>Tls</c>).</summary>
    [ValidateObjectMembers]
    public OcspTlsOptions Tls { get; } = new();

    /// <summary>Gets which client certificates' answers are kept for revocation checks, and for how long (section <c>ClientCertificates</c>; <see cref="OcspClientCertificateValidator"/>).</summary>
    [ValidateObjectMembers]
    public OcspClientCertificateOptions ClientCertificates { get; } = new();

    /// <summary>
    /// Gets or sets a value indicating whether the <c>Ocsp.Stapling</c> meter also reports per-certificate gauges
    /// (<c>ocsp.stapling.staple.age</c>, <c>ocsp.stapling.staple.time_to_next_update</c>, tagged with the certificate's
    /// name): one time series per certificate, so off by default; the aggregate gauges are always there.
    /// Key: <c>PerCertificateMetrics</c>.
    /// </summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool PerCertificateMetrics { get; set; }

    /// <summary>Gets certificates to keep stapled, given as files (section <c>Certificates</c>, a list of <c>Path</c> and <c>IssuerPath</c>).</summary>
    [ValidateEnumeratedItems]
    public IList<OcspCertificateFile> Certificates { get; } = [];
}
