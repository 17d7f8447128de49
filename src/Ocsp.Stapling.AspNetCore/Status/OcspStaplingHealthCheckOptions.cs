using System.ComponentModel.DataAnnotations;
using Ocsp.Stapling.AspNetCore.Internal;
using Ocsp.Stapling.Internal;
namespace Ocsp.Stapling.AspNetCore;

/// <summary>Thresholds of the OCSP stapling health check.</summary>
public sealed class OcspStaplingHealthCheckOptions
{
    /// <summary>
    /// Gets or sets the remaining validity under which a staple makes the check Degraded: refreshes normally happen at
    /// half-life, so a staple this close to its nextUpdate means the responder has been failing for a while.
    /// </summary>
    /// <value>The default value is 1 day.</value>
    [TimeSpanRange(OptionRanges.Zero, OptionRanges.MaxTimeSpan)]
    public TimeSpan DegradedRemainingValidity { get; set; } = TimeSpan.FromDays(1);
}
