using Microsoft.Extensions.Options;

namespace Ocsp.Stapling.Internal;

/// <summary>Checks <see cref="OcspStaplingOptions"/> at start-up (<c>ValidateOnStart</c>): the data annotations and cross-field rules of the options and of their nested options, generated at build time.</summary>
[OptionsValidator]
internal sealed partial class OcspStaplingOptionsValidator : IValidateOptions<OcspStaplingOptions>;

/// <summary>The bounds used in the options' <c>[Range]</c> attributes.</summary>
internal static class OptionRanges
{
    public const string Zero = "00:00:00";

    public const string HalfSecond = "00:00:00.5";

    public const string MaxTimeSpan = "10675199.02:48:05.4775807";
}
