namespace Ocsp.Stapling.Internal;

/// <summary>
/// The bounds of the options' <c>[Range]</c> attributes, one set for every package (the ASP.NET Core and PostgreSQL
/// packages see it through <c>InternalsVisibleTo</c>).
/// </summary>
internal static class OptionRanges
{
    public const string Zero = "00:00:00";

    public const string HalfSecond = "00:00:00.5";

    public const string OneMinute = "00:01:00";

    /// <summary>The longest timeout Polly.Core's timeout strategy accepts.</summary>
    public const string OneDay = "1.00:00:00";

    public const string MaxTimeSpan = "10675199.02:48:05.4775807";
}
