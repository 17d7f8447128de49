using System.ComponentModel.DataAnnotations;
using Ocsp.Stapling.Internal;

namespace Ocsp.Stapling;

/// <summary>The Polly.Core retry of a failed attempt on one responder URL (<see cref="OcspFetchOptions.Retry"/>, section <c>Fetch:Retry</c>).</summary>
public sealed class OcspRetryOptions
{
    /// <summary>Gets or sets how many times a failed attempt on one responder URL is retried. Key: <c>Fetch:Retry:MaxAttempts</c>.</summary>
    /// <value>The default value is 2.</value>
    [Range(0, 10)]
    public int MaxAttempts { get; set; } = 2;

    /// <summary>Gets or sets the first retry delay; later ones double, with jitter. A <c>Retry-After</c> header replaces it. Key: <c>Fetch:Retry:Delay</c>.</summary>
    /// <value>The default value is 1 second.</value>
    [TimeSpanRange(OptionRanges.Zero, OptionRanges.MaxTimeSpan, MinimumIsExclusive = true)]
    public TimeSpan Delay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets the longest <c>Retry-After</c> honoured inside one fetch; longer ones end the fetch as failed. Key: <c>Fetch:Retry:MaxRetryAfter</c>.</summary>
    /// <value>The default value is 10 seconds.</value>
    [TimeSpanRange(OptionRanges.Zero, OptionRanges.MaxTimeSpan)]
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromSeconds(10);
}
