using Microsoft.Extensions.Options;

namespace Ocsp.Stapling.AspNetCore.Internal;

/// <summary>
/// Options configured in code at the call that uses them (<c>MapOcspProxy</c>, <c>UseHttpsWithOcspStapling</c>) are
/// checked by the same generated validators, at that call, which runs at start-up.
/// </summary>
internal static class OptionsCheck
{
    /// <exception cref="OptionsValidationException">The options are invalid; the message lists every failure.</exception>
    public static TOptions Validated<TOptions>(IValidateOptions<TOptions> validator, TOptions options)
        where TOptions : class
    {
        ValidateOptionsResult result = validator.Validate(Options.DefaultName, options);
        return result.Failed ? throw new OptionsValidationException(Options.DefaultName, typeof(TOptions), result.Failures) : options;
    }
}
