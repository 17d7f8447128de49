namespace Ocsp.Stapling.Tool.Tests.Output;

/// <summary>Durations printed the way options are written (one unit read back to the same value; others in the largest units).</summary>
public sealed class DurationsTests
{
    [Theory]
    [InlineData("7d", "7d")]
    [InlineData("12h", "12h")]
    [InlineData("10m", "10m")]
    [InlineData("30s", "30s")]
    [InlineData("90s", "1m30s")]
    [InlineData("1.5d", "1d12h")]
    [InlineData("0s", "0s")]
    [InlineData("00:00:00.5", "0.5s")]
    [InlineData("7.00:00:00", "7d")]
    public void Format_WritesTheLargestUnits_AndParsesBackToTheSameDuration(string written, string expected)
    {
        Assert.True(Durations.TryParse(written, out TimeSpan duration));

        string formatted = Durations.Format(duration);

        Assert.Equal(expected, formatted);
        if (formatted.Count(char.IsAsciiLetter) == 1) // one unit: an option value as written, read back to the same duration
        {
            Assert.True(Durations.TryParse(formatted, out TimeSpan again));
            Assert.Equal(duration, again);
        }
    }
}
