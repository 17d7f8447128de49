using Microsoft.Extensions.Options;

namespace Ocsp.Stapling.AspNetCore.Internal;

/// <summary>Checks <see cref="OcspStaplingStatusOptions"/> (generated at build time).</summary>
[OptionsValidator]
internal sealed partial class OcspStaplingStatusOptionsValidator : IValidateOptions<OcspStaplingStatusOptions>;
