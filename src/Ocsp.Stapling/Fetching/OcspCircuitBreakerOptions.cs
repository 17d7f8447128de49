using System.ComponentModel.DataAnnotations;
using Ocsp.Stapling.Internal;

namespace Ocsp.Stapling;

/// <summary>The Polly.Core circuit breaker of each responder host (<see cref="OcspFetchOptions.CircuitBreaker"/>, section <c>Fetch:CircuitBreaker</c>).</summary>
public sealed class OcspCircuitBreakerOptions
{
    /// <summary>Gets or sets the failure ratio over <see cref="SamplingDuration"/> that opens a responder host's circuit. Key: <c>Fetch:CircuitBreaker:FailureRatio</c>.</summary>
    /// <value>The default value is 0.5.</value>
    [Range(0d, 1d, MinimumIsExclusive = true)]
    public double FailureRatio { get; set; } = 0.5;

    /// <summary>Gets or sets the number of attempts in the sampling window before the circuit may open. Key: <c>Fetch:CircuitBreaker:MinimumThroughput</c>.</summary>
    /// <value>The default value is 6.</value>
    [Range(2, int.MaxValue)]
    public int MinimumThroughput { get; set; } = 6;

    /// <summary>Gets or sets the sampling window. Key: <c>Fetch:CircuitBreaker:SamplingDuration</c>.</summary>
    /// <value>The default value is 1 minute.</value>
    [TimeSpanRange(OptionRanges.HalfSecond, OptionRanges.MaxTimeSpan)]
    public TimeSpan SamplingDuration { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Gets or sets how long a circuit that has just opened refuses attempts to a responder host; each failed probe after a
    /// break doubles the next one, up to <see cref="MaxBreakDuration"/>. Only failures of the responder itself count
    /// (no connection, no answer in time, HTTP 5xx, OCSP <c>tryLater</c> or <c>internalError</c>), never an answer about
    /// one request. Key: <c>Fetch:CircuitBreaker:BreakDuration</c>.
    /// </summary>
    /// <value>The default value is 2 seconds.</value>
    [TimeSpanRange(OptionRanges.HalfSecond, OptionRanges.MaxTimeSpan)]
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Gets or sets the longest break: after an outage, the first request once the responder is back is made at most this
    /// long after. Key: <c>Fetch:CircuitBreaker:MaxBreakDuration</c>.
    /// </summary>
    /// <value>The default value is 15 seconds: a responder that is down is probed four times a minute, and one that is back is asked within 15 s.</value>
    [TimeSpanRange(OptionRanges.HalfSecond, OptionRanges.MaxTimeSpan)]
    public TimeSpan MaxBreakDuration { get; set; } = TimeSpan.FromSeconds(15);
}
