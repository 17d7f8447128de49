using Microsoft.Extensions.Options;

namespace Ocsp.Stapling.AspNetCore.Internal;

/// <summary>Checks <see cref="OcspProxyOptions"/> (data annotations and cross-field rules, generated at build time).</summary>
[OptionsValidator]
internal sealed partial class OcspProxyOptionsValidator : IValidateOptions<OcspProxyOptions>;
