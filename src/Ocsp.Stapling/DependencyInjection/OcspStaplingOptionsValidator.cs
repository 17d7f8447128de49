using Microsoft.Extensions.Options;

namespace Ocsp.Stapling.Internal;

/// <summary>Checks options at start-up; every message names the option and the value given.</summary>
internal sealed class OcspStaplingOptionsValidator : IValidateOptions<OcspStaplingOptions>
{
    public ValidateOptionsResult Validate(string? name, OcspStaplingOptions options)
    {
        var errors = new List<string>();
        void Check(bool ok, string option, object? value, string rule)
        {
            if (!ok)
            {
                errors.Add($"OcspStaplingOptions.{option} {rule} (was {value}).");
            }
        }

        Check(options.RefreshAtFraction is > 0 and < 1, nameof(options.RefreshAtFraction), options.RefreshAtFraction, "must be greater than 0 and less than 1");
        Check(options.MinimumRemainingValidity >= TimeSpan.Zero, nameof(options.MinimumRemainingValidity), options.MinimumRemainingValidity, "must not be negative");
        Check(options.Jitter is >= 0 and < 1, nameof(options.Jitter), options.Jitter, "must be at least 0 and less than 1");
        Check(options.FailureBackoffBase > TimeSpan.Zero, nameof(options.FailureBackoffBase), options.FailureBackoffBase, "must be positive");
        Check(options.FailureBackoffMax >= options.FailureBackoffBase, nameof(options.FailureBackoffMax), options.FailureBackoffMax, "must be at least FailureBackoffBase");
        Check(options.MaxParallelFetches >= 1, nameof(options.MaxParallelFetches), options.MaxParallelFetches, "must be at least 1");
        Check(options.DistributedCacheTimeout > TimeSpan.Zero, nameof(options.DistributedCacheTimeout), options.DistributedCacheTimeout, "must be positive");
        Check(!string.IsNullOrEmpty(options.CacheKeyPrefix), nameof(options.CacheKeyPrefix), options.CacheKeyPrefix, "must not be empty");
        Check(options.Validation.MaxClockSkew >= TimeSpan.Zero, "Validation.MaxClockSkew", options.Validation.MaxClockSkew, "must not be negative");
        Check(options.Validation.MaxResponseSize is >= 256 and <= 16 * 1024 * 1024, "Validation.MaxResponseSize", options.Validation.MaxResponseSize, "must be 256 to 16,777,216 bytes");
        Check(options.Validation.MissingNextUpdateLifetime >= TimeSpan.Zero, "Validation.MissingNextUpdateLifetime", options.Validation.MissingNextUpdateLifetime, "must not be negative");
        OcspFetchOptions fetch = options.Fetch;
        Check(fetch.TotalTimeout > TimeSpan.Zero, "Fetch.TotalTimeout", fetch.TotalTimeout, "must be positive");
        Check(fetch.AttemptTimeout > TimeSpan.Zero && fetch.AttemptTimeout <= fetch.TotalTimeout, "Fetch.AttemptTimeout", fetch.AttemptTimeout, "must be positive and at most Fetch.TotalTimeout");
        Check(fetch.MaxRetryAttempts is >= 0 and <= 10, "Fetch.MaxRetryAttempts", fetch.MaxRetryAttempts, "must be 0 to 10");
        Check(fetch.RetryDelay > TimeSpan.Zero, "Fetch.RetryDelay", fetch.RetryDelay, "must be positive");
        Check(fetch.MaxRetryAfter >= TimeSpan.Zero, "Fetch.MaxRetryAfter", fetch.MaxRetryAfter, "must not be negative");
        Check(fetch.CircuitBreakerFailureRatio is > 0 and <= 1, "Fetch.CircuitBreakerFailureRatio", fetch.CircuitBreakerFailureRatio, "must be greater than 0 and at most 1");
        Check(fetch.CircuitBreakerMinimumThroughput >= 2, "Fetch.CircuitBreakerMinimumThroughput", fetch.CircuitBreakerMinimumThroughput, "must be at least 2");
        Check(fetch.CircuitBreakerSamplingDuration >= TimeSpan.FromMilliseconds(500), "Fetch.CircuitBreakerSamplingDuration", fetch.CircuitBreakerSamplingDuration, "must be at least 500 ms");
        Check(fetch.CircuitBreakerBreakDuration >= TimeSpan.FromMilliseconds(500), "Fetch.CircuitBreakerBreakDuration", fetch.CircuitBreakerBreakDuration, "must be at least 500 ms");
        foreach ((string key, string value) in fetch.ResponderOverrides)
        {
            bool ok = string.Equals(value, OcspStaplingOptions.DisabledResponder, StringComparison.OrdinalIgnoreCase)
                || OcspHttpEncoding.TryParseResponderUri(value, out _);
            Check(ok, $"Fetch.ResponderOverrides[{key}]", value, "must be an absolute http(s) URL or 'disabled'");
        }

        for (int i = 0; i < options.Certificates.Count; i++)
        {
            OcspCertificateFile file = options.Certificates[i];
            Check(!string.IsNullOrWhiteSpace(file.Path) && File.Exists(file.Path), $"Certificates[{i}].Path", file.Path, "must name an existing file");
            Check(file.IssuerPath is null || File.Exists(file.IssuerPath), $"Certificates[{i}].IssuerPath", file.IssuerPath, "must name an existing file");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
