using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace Ocsp.Stapling.Internal;

/// <summary>
/// The range of a <see cref="TimeSpan"/> option, bounds in the invariant "c" format (<see cref="OptionRanges"/>): what
/// <c>[Range(typeof(TimeSpan), min, max)]</c> checks, without that constructor's <c>TypeConverter</c>, which trimming
/// and Native AOT cannot keep (IL2026). The options validators are source generated and call it directly.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field | AttributeTargets.Parameter, AllowMultiple = false)]
internal sealed class TimeSpanRangeAttribute : ValidationAttribute
{
    /// <summary>Initializes the range from its two bounds in the "c" format ("00:00:00.5", "1.00:00:00").</summary>
    public TimeSpanRangeAttribute(string minimum, string maximum)
        : base("The field {0} must be between {1} and {2}.")
    {
        Minimum = TimeSpan.ParseExact(minimum, "c", CultureInfo.InvariantCulture);
        Maximum = TimeSpan.ParseExact(maximum, "c", CultureInfo.InvariantCulture);
    }

    /// <summary>Gets the lower bound.</summary>
    public TimeSpan Minimum { get; }

    /// <summary>Gets the upper bound.</summary>
    public TimeSpan Maximum { get; }

    /// <summary>Gets or sets whether the lower bound itself is refused.</summary>
    public bool MinimumIsExclusive { get; set; }

    /// <inheritdoc />
    public override bool IsValid(object? value) =>
        value is not TimeSpan time || ((MinimumIsExclusive ? time > Minimum : time >= Minimum) && time <= Maximum);

    /// <inheritdoc />
    public override string FormatErrorMessage(string name) =>
        string.Format(CultureInfo.CurrentCulture, ErrorMessageString, name, Minimum, Maximum) + (MinimumIsExclusive ? $" (more than {Minimum})" : string.Empty);
}
