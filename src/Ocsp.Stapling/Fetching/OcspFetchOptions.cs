using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using Ocsp.Stapling.Internal;

namespace Ocsp.Stapling;

/// <summary>
/// How responses are fetched from OCSP responders (<see cref="OcspStaplingOptions.Fetch"/>, configuration section
/// <c>Fetch</c>): time limits, the Polly.Core retry and circuit breaker, per-host limits, redirects and overrides.
/// </summary>
public sealed class OcspFetchOptions : IValidatableObject
{
    /// <summary>The name of the <see cref="HttpClient"/> taken from <see cref="IHttpClientFactory"/>; configure it to add handlers (a proxy is <see cref="Proxy"/>).</summary>
    public const string HttpClientName = "Ocsp.Stapling";

    /// <summary>The value of a responder override (<see cref="ResponderOverrides"/>) that turns fetching off.</summary>
    public const string DisabledResponder = "disabled";

    /// <summary>Gets or sets the limit for one fetch, all URLs and retries included. Key: <c>Fetch:TotalTimeout</c>.</summary>
    /// <value>The default value is 30 seconds.</value>
    [TimeSpanRange(OptionRanges.Zero, OptionRanges.MaxTimeSpan, MinimumIsExclusive = true)]
    public TimeSpan TotalTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets the limit for one HTTP attempt (at most a day, Polly.Core's bound). Key: <c>Fetch:AttemptTimeout</c>.</summary>
    /// <value>The default value is 10 seconds.</value>
    [TimeSpanRange(OptionRanges.Zero, OptionRanges.OneDay, MinimumIsExclusive = true)]
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets the retries of a failed attempt on one responder URL (section <c>Fetch:Retry</c>).</summary>
    [ValidateObjectMembers]
    public OcspRetryOptions Retry { get; } = new();

    /// <summary>Gets the circuit breaker of each responder host (section <c>Fetch:CircuitBreaker</c>).</summary>
    [ValidateObjectMembers]
    public OcspCircuitBreakerOptions CircuitBreaker { get; } = new();

    /// <summary>Gets the outbound HTTP proxy responders are asked through (section <c>Fetch:Proxy</c>); by default the environment's.</summary>
    [ValidateObjectMembers]
    public OcspOutboundProxyOptions Proxy { get; } = new();

    /// <summary>Gets or sets the CertID hash algorithm of requests. Key: <c>Fetch:HashAlgorithm</c>.</summary>
    /// <value>The default value is <see cref="OcspHashAlgorithm.Sha1"/> (RFC 5019).</value>
    [EnumDataType(typeof(OcspHashAlgorithm))]
    public OcspHashAlgorithm HashAlgorithm { get; set; } = OcspHashAlgorithm.Sha1;

    /// <summary>
    /// Gets or sets how many fetches may be under way at once to one responder host (host and port), whoever asks: the
    /// scheduler, start-up, a proxy's first request. Others wait their turn (a wait is not a failure and does not count
    /// against the fetch's timeouts), so that many certificates of one CA never flood its responder.
    /// Key: <c>Fetch:MaxConcurrentRequestsPerHost</c>.
    /// </summary>
    /// <value>The default value is 4.</value>
    [Range(1, 10_000)]
    public int MaxConcurrentRequestsPerHost { get; set; } = 4;

    /// <summary>
    /// Gets or sets how many fetches may start per second against one responder host (a token bucket holding one second's
    /// worth). Retries inside a fetch are spaced by <see cref="OcspRetryOptions.Delay"/> and not counted again.
    /// Key: <c>Fetch:MaxRequestsPerSecondPerHost</c>.
    /// </summary>
    /// <value>The default value is 20: a cold start of 100,000 certificates of one CA takes 83 minutes of fetching (from a warm shared store, none).</value>
    [Range(0.01, 100_000d)]
    public double MaxRequestsPerSecondPerHost { get; set; } = 20;

    /// <summary>
    /// Gets or sets which redirects a responder may send a fetch through. Redirects are followed here, not by the HTTP
    /// client (its primary handler has them off), so that a responder, or whatever answers at its address, cannot send
    /// fetches to a host that no certificate names. Key: <c>Fetch:Redirects</c>.
    /// </summary>
    /// <value>The default value is <see cref="OcspRedirectPolicy.SameOrigin"/>.</value>
    [EnumDataType(typeof(OcspRedirectPolicy))]
    public OcspRedirectPolicy Redirects { get; set; } = OcspRedirectPolicy.SameOrigin;

    /// <summary>Gets or sets a value indicating whether requests carry a nonce (forces POST-sized, uncacheable requests). Key: <c>Fetch:IncludeNonce</c>.</summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool IncludeNonce { get; set; }

    /// <summary>
    /// Gets responder overrides: key = SHA-1 thumbprint (hex, as <c>X509Certificate2.Thumbprint</c>) of a certificate or of an
    /// issuer; value = the responder URL to use instead of the AIA URLs, or <see cref="DisabledResponder"/> (<c>disabled</c>)
    /// to never fetch for it. A certificate's own entry wins over its issuer's. Section: <c>Fetch:ResponderOverrides</c>.
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
            if (!string.Equals(value, DisabledResponder, StringComparison.OrdinalIgnoreCase) && !Responders.TryParse(value, out _))
            {
                yield return new ValidationResult($"OcspStaplingOptions.Fetch.ResponderOverrides[{key}] must be an absolute http(s) URL or 'disabled' (was {value}).", [$"{nameof(ResponderOverrides)}[{key}]"]);
            }
        }
    }
}
