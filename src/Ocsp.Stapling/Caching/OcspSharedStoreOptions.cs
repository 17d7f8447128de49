using System.ComponentModel.DataAnnotations;
using Ocsp.Stapling.Internal;

namespace Ocsp.Stapling;

/// <summary>
/// The shared store (L2) as the provider uses it, whatever the backend (<see cref="OcspStaplingOptions.SharedStore"/>,
/// section <c>SharedStore</c>).
/// </summary>
public sealed class OcspSharedStoreOptions
{
    /// <summary>Gets or sets the limit on each read or write of the store; a slower store is treated as failed for that call. Key: <c>SharedStore:Timeout</c>.</summary>
    /// <value>The default value is 2 seconds.</value>
    [TimeSpanRange(OptionRanges.Zero, OptionRanges.MaxTimeSpan, MinimumIsExclusive = true)]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Gets or sets the prefix of the store's keys (a fleet sharing one store uses one prefix). Key: <c>SharedStore:KeyPrefix</c>.</summary>
    /// <value>The default value is <c>ocsp-stapling:</c>.</value>
    [Required]
    public string KeyPrefix { get; set; } = "ocsp-stapling:";

    /// <summary>
    /// Gets or sets the directory of the default file-system store (used unless the builder chooses another backend).
    /// <see langword="null"/> means <c>ocsp-stapling-cache</c> under the user's local application data directory
    /// (<c>~/.local/share/ocsp-stapling-cache</c> on Linux). Key: <c>SharedStore:Directory</c>.
    /// </summary>
    /// <value>The default value is <see langword="null"/>.</value>
    public string? Directory { get; set; }
}
