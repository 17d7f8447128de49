using Microsoft.Extensions.Options;

namespace Ocsp.Stapling.Internal;

/// <summary>Checks <see cref="OcspStaplingOptions"/> at start-up (<c>ValidateOnStart</c>): the data annotations and cross-field rules of the options and of their nested groups, generated at build time.</summary>
[OptionsValidator]
internal sealed partial class OcspStaplingOptionsValidator : IValidateOptions<OcspStaplingOptions>;
