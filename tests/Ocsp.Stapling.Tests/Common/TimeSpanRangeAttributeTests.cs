using System.ComponentModel.DataAnnotations;
using Ocsp.Stapling.Internal;

namespace Ocsp.Stapling.Tests.Common;

/// <summary>
/// The AOT-safe replacement of <c>[Range(typeof(TimeSpan), …)]</c> on the options: the same bounds, the exclusive minimum,
/// a message naming the option, and the source-generated validators using it.
/// </summary>
public sealed class TimeSpanRangeAttributeTests
{
    [Theory]
    [InlineData("00:00:00", false, false)]
    [InlineData("00:00:00.0000001", false, true)]
    [InlineData("1.00:00:00", false, true)]
    [InlineData("1.00:00:00.0000001", false, false)]
    [InlineData("-00:00:01", false, false)]
    [InlineData("00:00:00", true, true)]
    public void Bounds_AreThoseOfRange(string value, bool inclusiveMinimum, bool valid)
    {
        var range = new TimeSpanRangeAttribute(OptionRanges.Zero, OptionRanges.OneDay) { MinimumIsExclusive = !inclusiveMinimum };

        Assert.Equal(valid, range.IsValid(TimeSpan.Parse(value, System.Globalization.CultureInfo.InvariantCulture)));
        Assert.True(range.IsValid(null)); // [Required] says whether a value must be there
    }

    [Fact]
    public void Message_NamesTheOptionAndTheBounds()
    {
        var range = new TimeSpanRangeAttribute(OptionRanges.Zero, OptionRanges.OneDay) { MinimumIsExclusive = true };

        ValidationResult? result = range.GetValidationResult(TimeSpan.Zero, new ValidationContext(new object()) { DisplayName = "StartupFetchTimeout", MemberName = "StartupFetchTimeout" });

        Assert.Equal("The field StartupFetchTimeout must be between 00:00:00 and 1.00:00:00. (more than 00:00:00)", result?.ErrorMessage);
    }

    [Fact]
    public void GeneratedValidator_RefusesAnOptionOutOfItsRange()
    {
        var options = new OcspStaplingOptions();
        options.Tls.StartupFetchTimeout = TimeSpan.FromSeconds(-1);

        Microsoft.Extensions.Options.ValidateOptionsResult result = new OcspStaplingOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("StartupFetchTimeout", result.FailureMessage, StringComparison.Ordinal);
    }
}
