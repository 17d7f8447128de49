using Microsoft.Extensions.Options;

namespace Ocsp.Stapling.AspNetCore.Internal;

/// <summary>Checks <see cref="OcspStaplingHealthCheckOptions"/> (generated at build time).</summary>
[OptionsValidator]
internal sealed partial class OcspStaplingHealthCheckOptionsValidator : IValidateOptions<OcspStaplingHealthCheckOptions>;
