using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using Ocsp.Stapling.Internal;
namespace Ocsp.Stapling;

/// <summary>Options of the OCSP stapling provider and its refresh scheduler.</summary>
public sealed class OcspStaplingOptions : IValidatableObject
{
    /// <summary>The value of a responder override that turns fetching off.</summary>
    public const string DisabledResponder = "disabled";

    /// <summary>Gets or sets the fraction of a response's validity (thisUpdate → nextUpdate) after which it is refreshed.</summary>
    /// <value>The default value is 0.5 (half-life, as RFC 5019 §6 and the ocsp_proxy seed).</value>
    [Range(0d, 1d, MinimumIsExclusive = true, MaximumIsExclusive = true)]
    public double RefreshAtFraction { get; set; } = 0.5;

    /// <summary>Gets or sets the remaining validity under which a response is refreshed even before <see cref="RefreshAtFraction"/>.</summary>
    /// <value>The default value is 1 day.</value>
    [Range(typeof(TimeSpan), OptionRanges.Zero, OptionRanges.MaxTimeSpan)]
    public TimeSpan MinimumRemainingValidity { get; set; } = TimeSpan.FromDays(1);

    /// <summary>
    /// Gets or sets the jitter: each scheduled refresh moves earlier by a random fraction up to this value of the time until it,
    /// and each failure back-off shrinks by up to this fraction, so that a fleet does not synchronise.
    /// </summary>
    /// <value>The default value is 0.1.</value>
    [Range(0d, 1d, MaximumIsExclusive = true)]
    public double Jitter { get; set; } = 0.1;

    /// <summary>Gets or sets the first retry delay after a failed refresh; it doubles per consecutive failure.</summary>
    /// <value>The default value is 1 minute.</value>
    [Range(typeof(TimeSpan), OptionRanges.Zero, OptionRanges.MaxTimeSpan, MinimumIsExclusive = true)]
    public TimeSpan FailureBackoffBase { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Gets or sets the cap of the failure back-off.</summary>
    /// <value>The default value is 1 hour.</value>
    [Range(typeof(TimeSpan), OptionRanges.Zero, OptionRanges.MaxTimeSpan, MinimumIsExclusive = true)]
    public TimeSpan FailureBackoffMax { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Gets or sets a value indicating whether the meter also reports per-certificate gauges
    /// (<c>ocsp.stapling.staple.age</c>, <c>ocsp.stapling.staple.time_to_next_update</c>, tagged with the certificate's
    /// name): one time series per certificate, so off by default; the aggregate gauges are always there.
    /// </summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool PerCertificateMetrics { get; set; }

    /// <summary>Gets or sets how many fetches the scheduler runs at once (at start-up, every registered certificate is fetched eagerly).</summary>
    /// <value>The default value is 4.</value>
    [Range(1, int.MaxValue)]
    public int MaxParallelFetches { get; set; } = 4;

    /// <summary>Gets or sets a value indicating whether a response saying "revoked" is stapled. Off by default: the handshake then carries no staple.</summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool StapleRevoked { get; set; }

    /// <summary>Gets or sets the limit on each shared-cache (L2) read or write; a slower cache is treated as failed for that call.</summary>
    /// <value>The default value is 2 seconds.</value>
    [Range(typeof(TimeSpan), OptionRanges.Zero, OptionRanges.MaxTimeSpan, MinimumIsExclusive = true)]
    public TimeSpan DistributedCacheTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Gets or sets how long a TLS server's start (and a certificate rotation) waits for the first OCSP answer of a
    /// certificate the shared cache has no staple for: the endpoint starts accepting once every certificate's first
    /// fetch has answered (a staple or a failure) or this bound has passed, so that the first handshake is stapled on a
    /// cold start. A handshake itself never waits on the network.
    /// </summary>
    /// <value>The default value is 5 seconds.</value>
    [Range(typeof(TimeSpan), OptionRanges.Zero, OptionRanges.MaxTimeSpan)]
    public TimeSpan StartupFetchTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Gets or sets how long a watched certificate file must stay unchanged before it is reloaded: ACME clients write
    /// the certificate and the key a moment apart. Zero reloads on the first change (a pair caught half-written is then
    /// refused, and the next change retries).
    /// </summary>
    /// <value>The default value is 1 second.</value>
    [Range(typeof(TimeSpan), OptionRanges.Zero, OptionRanges.MaxTimeSpan)]
    public TimeSpan CertificateReloadDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Gets or sets how often watched certificate files are also re-read without a change notification (network file
    /// systems, symbolic links replaced elsewhere). Zero turns the poll off.
    /// </summary>
    /// <value>The default value is 1 minute.</value>
    [Range(typeof(TimeSpan), OptionRanges.Zero, OptionRanges.MaxTimeSpan)]
    public TimeSpan CertificatePollInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Gets or sets the least time between two prunes of one certificate (<see cref="IOcspCertificateRegistry.PruneAsync"/>,
    /// a proxy's <c>X-Prune-From-Cache</c>) that ask the responder: a client repeating the header cannot drive upstream load.
    /// </summary>
    /// <value>The default value is 5 minutes.</value>
    [Range(typeof(TimeSpan), OptionRanges.Zero, OptionRanges.MaxTimeSpan)]
    public TimeSpan MinimumPruneInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Gets or sets the prefix of shared-cache keys.</summary>
    /// <value>The default value is <c>ocsp-stapling:</c>.</value>
    [Required]
    public string CacheKeyPrefix { get; set; } = "ocsp-stapling:";

    /// <summary>
    /// Gets or sets the directory of the default file-system cache (used unless the builder chooses another backend).
    /// <see langword="null"/> means <c>ocsp-stapling-cache</c> under the user's local application data directory.
    /// </summary>
    public string? CacheDirectory { get; set; }

    /// <summary>Gets the validation limits applied to every response.</summary>
    [ValidateObjectMembers]
    public OcspValidationOptions Validation { get; } = new();

    /// <summary>Gets the fetching options.</summary>
    [ValidateObjectMembers]
    public OcspFetchOptions Fetch { get; } = new();

    /// <summary>Gets certificates to keep stapled, given as files (for configuration binding).</summary>
    [ValidateEnumeratedItems]
    public IList<OcspCertificateFile> Certificates { get; } = [];

    /// <inheritdoc />
    IEnumerable<ValidationResult> IValidatableObject.Validate(ValidationContext validationContext)
    {
        if (FailureBackoffMax < FailureBackoffBase)
        {
            yield return new ValidationResult($"OcspStaplingOptions.FailureBackoffMax must be at least FailureBackoffBase (was {FailureBackoffMax}, base {FailureBackoffBase}).", [nameof(FailureBackoffMax)]);
        }
    }
}
