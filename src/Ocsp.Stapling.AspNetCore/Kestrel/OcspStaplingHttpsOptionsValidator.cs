using Microsoft.Extensions.Options;

namespace Ocsp.Stapling.AspNetCore.Internal;

/// <summary>Checks <see cref="OcspStaplingHttpsOptions"/> (generated at build time).</summary>
[OptionsValidator]
internal sealed partial class OcspStaplingHttpsOptionsValidator : IValidateOptions<OcspStaplingHttpsOptions>;
