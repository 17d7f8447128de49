using Microsoft.Extensions.Options;

namespace Ocsp.Stapling.PostgreSql.Internal;

/// <summary>Checks <see cref="PostgreSqlCacheOptions"/> (data annotations and cross-field rules, generated at build time): at start-up for options from DI, at construction otherwise.</summary>
[OptionsValidator]
internal sealed partial class PostgreSqlCacheOptionsValidator : IValidateOptions<PostgreSqlCacheOptions>
{
    /// <exception cref="OptionsValidationException">The options are invalid; the message lists every failure.</exception>
    public static void EnsureValid(PostgreSqlCacheOptions options, string name)
    {
        ValidateOptionsResult result = new PostgreSqlCacheOptionsValidator().Validate(name, options);
        if (result.Failed)
        {
            throw new OptionsValidationException(name, typeof(PostgreSqlCacheOptions), result.Failures);
        }
    }
}
