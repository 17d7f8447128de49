using System.ComponentModel.DataAnnotations;
using Ocsp.Stapling.Internal;

namespace Ocsp.Stapling;

/// <summary>When responses are refreshed, how failures back off, and how often a prune may ask again (<see cref="OcspStaplingOptions.Refresh"/>, section <c>Refresh</c>).</summary>
public sealed class OcspRefreshOptions : IValidatableObject
{
    /// <summary>Gets or sets the fraction of a response's validity (thisUpdate → nextUpdate) after which it is refreshed. Key: <c>Refresh:AtFraction</c>.</summary>
    /// <value>The default value is 0.5 (half-life, as RFC 5019 §6 and the ocsp_proxy seed).</value>
    [Range(0d, 1d, MinimumIsExclusive = true, MaximumIsExclusive = true)]
    public double AtFraction { get; set; } = 0.5;

    /// <summary>Gets or sets the remaining validity under which a response is refreshed even before <see cref="AtFraction"/>. Key: <c>Refresh:MinimumRemainingValidity</c>.</summary>
    /// <value>The default value is 1 day.</value>
    [TimeSpanRange(OptionRanges.Zero, OptionRanges.MaxTimeSpan)]
    public TimeSpan MinimumRemainingValidity { get; set; } = TimeSpan.FromDays(1);

    /// <summary>
    /// Gets or sets the jitter: each scheduled refresh moves earlier by a random fraction up to this value of the time until it,
    /// and each failure back-off shrinks by up to this fraction, so that a fleet does not synchronise. Key: <c>Refresh:Jitter</c>.
    /// </summary>
    /// <value>The default value is 0.1.</value>
    [Range(0d, 1d, MaximumIsExclusive = true)]
    public double Jitter { get; set; } = 0.1;

    /// <summary>Gets or sets the first retry delay after a failed refresh; it doubles per consecutive failure. Key: <c>Refresh:FailureBackoffBase</c>.</summary>
    /// <value>The default value is 1 minute.</value>
    [TimeSpanRange(OptionRanges.Zero, OptionRanges.MaxTimeSpan, MinimumIsExclusive = true)]
    public TimeSpan FailureBackoffBase { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Gets or sets the cap of the failure back-off. Key: <c>Refresh:FailureBackoffMax</c>.</summary>
    /// <value>The default value is 1 hour.</value>
    [TimeSpanRange(OptionRanges.Zero, OptionRanges.MaxTimeSpan, MinimumIsExclusive = true)]
    public TimeSpan FailureBackoffMax { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Gets or sets how many refreshes run at once (at start-up, every registered certificate is fetched eagerly). Key: <c>Refresh:MaxParallelFetches</c>.</summary>
    /// <value>The default value is 4.</value>
    [Range(1, int.MaxValue)]
    public int MaxParallelFetches { get; set; } = 4;

    /// <summary>
    /// Gets or sets the least time between two prunes of one certificate (<see cref="OcspCertificateRegistry.PruneAsync(System.Security.Cryptography.X509Certificates.X509Certificate2, CancellationToken)"/>,
    /// a proxy's <c>X-Prune-From-Cache</c>) that ask the responder: a client repeating the header cannot drive upstream
    /// load. Key: <c>Refresh:MinimumPruneInterval</c>.
    /// </summary>
    /// <value>The default value is 5 minutes.</value>
    [TimeSpanRange(OptionRanges.Zero, OptionRanges.MaxTimeSpan)]
    public TimeSpan MinimumPruneInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <inheritdoc />
    IEnumerable<ValidationResult> IValidatableObject.Validate(ValidationContext validationContext)
    {
        if (FailureBackoffMax < FailureBackoffBase)
        {
            yield return new ValidationResult(
                $"OcspStaplingOptions.Refresh.FailureBackoffMax must be at least FailureBackoffBase (was {FailureBackoffMax}, base {FailureBackoffBase}).", [nameof(FailureBackoffMax)]);
        }
    }
}
