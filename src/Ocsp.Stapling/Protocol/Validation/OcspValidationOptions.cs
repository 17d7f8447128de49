using System.ComponentModel.DataAnnotations;
using Ocsp.Stapling.Internal;
namespace Ocsp.Stapling;

/// <summary>Limits applied by <see cref="OcspResponseValidator"/>.</summary>
public sealed class OcspValidationOptions
{
    /// <summary>Gets the options with every default value. Do not modify it.</summary>
    internal static OcspValidationOptions Default { get; } = new();

    /// <summary>Gets or sets how far in the future <c>thisUpdate</c> may be, to absorb clock differences with the responder.</summary>
    /// <value>The default value is 5 minutes.</value>
    [TimeSpanRange(OptionRanges.Zero, OptionRanges.MaxTimeSpan)]
    public TimeSpan MaxClockSkew { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Gets or sets the largest response accepted, in bytes. Larger bodies are dropped unread.</summary>
    /// <value>The default value is 65,536 (64 KiB); real responses are 0.5–4 KiB.</value>
    [Range(256, 16 * 1024 * 1024)]
    public int MaxResponseSize { get; set; } = 64 * 1024;

    /// <summary>
    /// Gets or sets how long after <c>thisUpdate</c> a response without <c>nextUpdate</c> is treated as valid
    /// (RFC 6960 §4.2.2.1 says newer information is then always available, so it must not be kept forever).
    /// <see cref="TimeSpan.Zero"/> rejects such responses.
    /// </summary>
    /// <value>The default value is 1 hour, as Apache's <c>SSLStaplingStandardCacheTimeout</c>.</value>
    [TimeSpanRange(OptionRanges.Zero, OptionRanges.MaxTimeSpan)]
    public TimeSpan MissingNextUpdateLifetime { get; set; } = TimeSpan.FromHours(1);
}
