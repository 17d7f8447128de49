using System.ComponentModel.DataAnnotations;
using Ocsp.Stapling.Internal;
namespace Ocsp.Stapling;

/// <summary>How responses are fetched from OCSP responders: HTTP client, timeouts, retries and circuit breaking.</summary>
public sealed class OcspFetchOptions : IValidatableObject
{
    /// <summary>The name of the <see cref="HttpClient"/> taken from <see cref="IHttpClientFactory"/>; configure it to add a proxy or handlers.</summary>
    public const string HttpClientName = "Ocsp.Stapling";

    /// <summary>Gets or sets the limit for one fetch, all URLs and retries included.</summary>
    /// <value>The default value is 30 seconds.</value>
    [Range(typeof(TimeSpan), OptionRanges.Zero, OptionRanges.MaxTimeSpan, MinimumIsExclusive = true)]
    public TimeSpan TotalTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets the limit for one HTTP attempt.</summary>
    /// <value>The default value is 10 seconds.</value>
    [Range(typeof(TimeSpan), OptionRanges.Zero, OptionRanges.MaxTimeSpan, MinimumIsExclusive = true)]
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets or sets how many times a failed attempt on one responder URL is retried.</summary>
    /// <value>The default value is 2.</value>
    [Range(0, 10)]
    public int MaxRetryAttempts { get; set; } = 2;

    /// <summary>Gets or sets the first retry delay; later ones double, with jitter. A <c>Retry-After</c> header replaces it.</summary>
    /// <value>The default value is 1 second.</value>
    [Range(typeof(TimeSpan), OptionRanges.Zero, OptionRanges.MaxTimeSpan, MinimumIsExclusive = true)]
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets the longest <c>Retry-After</c> honoured inside one fetch; longer ones end the fetch as failed.</summary>
    /// <value>The default value is 10 seconds.</value>
    [Range(typeof(TimeSpan), OptionRanges.Zero, OptionRanges.MaxTimeSpan)]
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets or sets the failure ratio over <see cref="CircuitBreakerSamplingDuration"/> that opens a responder host's circuit.</summary>
    /// <value>The default value is 0.5.</value>
    [Range(0d, 1d, MinimumIsExclusive = true)]
    public double CircuitBreakerFailureRatio { get; set; } = 0.5;

    /// <summary>Gets or sets the number of attempts in the sampling window before the circuit may open.</summary>
    /// <value>The default value is 6.</value>
    [Range(2, int.MaxValue)]
    public int CircuitBreakerMinimumThroughput { get; set; } = 6;

    /// <summary>Gets or sets the circuit breaker's sampling window.</summary>
    /// <value>The default value is 1 minute.</value>
    [Range(typeof(TimeSpan), OptionRanges.HalfSecond, OptionRanges.MaxTimeSpan)]
    public TimeSpan CircuitBreakerSamplingDuration { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Gets or sets how long an open circuit refuses attempts to a responder host.</summary>
    /// <value>The default value is 1 minute.</value>
    [Range(typeof(TimeSpan), OptionRanges.HalfSecond, OptionRanges.MaxTimeSpan)]
    public TimeSpan CircuitBreakerBreakDuration { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Gets or sets the CertID hash algorithm of requests.</summary>
    /// <value>The default value is <see cref="OcspHashAlgorithm.Sha1"/> (RFC 5019).</value>
    public OcspHashAlgorithm HashAlgorithm { get; set; } = OcspHashAlgorithm.Sha1;

    /// <summary>
    /// Gets or sets how many fetches may be under way at once to one responder host (host and port), whoever asks: the
    /// scheduler, start-up, a proxy's first request. Others wait their turn (a wait is not a failure and does not count
    /// against the fetch's timeouts), so that many certificates of one CA never flood its responder.
    /// </summary>
    /// <value>The default value is 4.</value>
    [Range(1, 10_000)]
    public int MaxConcurrentRequestsPerHost { get; set; } = 4;

    /// <summary>
    /// Gets or sets how many fetches may start per second against one responder host (a token bucket holding one second's
    /// worth). Retries inside a fetch are spaced by <see cref="RetryDelay"/> and not counted again.
    /// </summary>
    /// <value>The default value is 20: a cold start of 100,000 certificates of one CA takes 83 minutes of fetching (from a warm shared store, none).</value>
    [Range(0.01, 100_000d)]
    public double MaxRequestsPerSecondPerHost { get; set; } = 20;

    /// <summary>
    /// Gets or sets which redirects a responder may send a fetch through. Redirects are followed here, not by the HTTP
    /// client (its primary handler has them off), so that a responder, or whatever answers at its address, cannot send
    /// fetches to a host that no certificate names.
    /// </summary>
    /// <value>The default value is <see cref="OcspRedirectPolicy.SameOrigin"/>.</value>
    [EnumDataType(typeof(OcspRedirectPolicy))]
    public OcspRedirectPolicy Redirects { get; set; } = OcspRedirectPolicy.SameOrigin;

    /// <summary>Gets or sets a value indicating whether requests carry a nonce (forces POST-sized, uncacheable requests).</summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool IncludeNonce { get; set; }

    /// <summary>
    /// Gets responder overrides: key = SHA-1 thumbprint (hex, as <c>X509Certificate2.Thumbprint</c>) of a certificate or of an
    /// issuer; value = the responder URL to use instead of the AIA URLs, or <c>disabled</c> to never fetch for it.
    /// A certificate's own entry wins over its issuer's.
    /// </summary>
    public IDictionary<string, string> ResponderOverrides { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <inheritdoc />
    IEnumerable<ValidationResult> IValidatableObject.Validate(ValidationContext validationContext)
    {
        if (AttemptTimeout > TotalTimeout)
        {
            yield return new ValidationResult($"OcspStaplingOptions.Fetch.AttemptTimeout must be at most TotalTimeout (was {AttemptTimeout}, total {TotalTimeout}).", [nameof(AttemptTimeout)]);
        }

        foreach ((string key, string value) in ResponderOverrides)
        {
            if (!string.Equals(value, OcspStaplingOptions.DisabledResponder, StringComparison.OrdinalIgnoreCase) && !OcspHttpEncoding.TryParseResponderUri(value, out _))
            {
                yield return new ValidationResult($"OcspStaplingOptions.Fetch.ResponderOverrides[{key}] must be an absolute http(s) URL or 'disabled' (was {value}).", [$"{nameof(ResponderOverrides)}[{key}]"]);
            }
        }
    }
}
