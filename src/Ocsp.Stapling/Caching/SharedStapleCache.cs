using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Logging;

namespace Ocsp.Stapling.Internal;

/// <summary>
/// The shared cache (L2) as the provider uses it: entries keyed by SHA-1 CertID, re-validated on every read, each call
/// bounded by <see cref="OcspStaplingOptions.DistributedCacheTimeout"/>. Failures and time-outs are logged and counted,
/// never thrown: the shared cache is optional.
/// </summary>
internal sealed class SharedStapleCache
{
    private static readonly KeyValuePair<string, object?> L2Tag = new("level", "l2");
    private static readonly KeyValuePair<string, object?> HitTag = new("result", "hit");
    private static readonly KeyValuePair<string, object?> MissTag = new("result", "miss");

    private readonly IDistributedCache? _cache;
    private readonly OcspStaplingOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly OcspStaplingMetrics _metrics;

    public SharedStapleCache(IDistributedCache cache, OcspStaplingOptions options, TimeProvider time, ILogger logger, OcspStaplingMetrics metrics)
    {
        _cache = cache is NoSharedCache ? null : cache;
        _options = options;
        _time = time;
        _logger = logger;
        _metrics = metrics;
    }

    public bool IsEnabled => _cache is not null;

    /// <summary>Reads the entry and validates it for <paramref name="registration"/> at <paramref name="now"/>; <see langword="null"/> when absent, unusable or unreachable.</summary>
    public async Task<OcspStaple?> ReadAsync(Registration registration, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (_cache is null)
        {
            return null;
        }

        byte[]? value;
        try
        {
            value = await BoundedAsync((cache, key, token) => cache.GetAsync(key, token), registration, cancellationToken).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Whatever the backend throws, the shared cache is optional.
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
#pragma warning restore CA1031
        {
            Failed("read", registration, ex);
            return null;
        }

        if (value is null || !StapleCacheEntry.TryDeserialize(value, out DateTimeOffset fetchedAt, out ReadOnlyMemory<byte> der))
        {
            _metrics.Lookups.Add(1, L2Tag, MissTag);
            return null;
        }

        // A shared store is not trusted: the entry must pass the same validation as a fresh response.
        OcspValidationResult result = OcspResponseValidator.Validate(der, registration.Subject, now, _options.Validation);
        if (!result.IsValid || result.Staple.Status == OcspCertificateStatus.Unknown)
        {
            _metrics.Lookups.Add(1, L2Tag, MissTag);
            return null;
        }

        _metrics.Lookups.Add(1, L2Tag, HitTag);
        OcspStaple staple = result.Staple;
        return new OcspStaple(
            staple.Encoded.Span, staple.CertificateId, staple.Status, staple.ThisUpdate, staple.NextUpdate, staple.ProducedAt, fetchedAt, staple.RevocationTime, staple.RevocationReason);
    }

    /// <summary>Stores <paramref name="staple"/>, expiring at its nextUpdate. Best effort: the staple is already served from memory.</summary>
    public async Task WriteAsync(Registration registration, OcspStaple staple)
    {
        if (_cache is null)
        {
            return;
        }

        try
        {
            var entryOptions = new DistributedCacheEntryOptions { AbsoluteExpiration = staple.NextUpdate };
            byte[] value = StapleCacheEntry.Serialize(staple);
            await BoundedAsync(
                async (cache, key, token) =>
                {
                    await cache.SetAsync(key, value, entryOptions, token).ConfigureAwait(false);
                    return true;
                },
                registration,
                CancellationToken.None).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The staple is already served from memory; the shared copy is best effort.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Failed("write", registration, ex);
        }
    }

    /// <summary>Removes the entry. A copy left behind by a failure is re-validated on read and replaced by the next refresh.</summary>
    public async Task RemoveAsync(Registration registration, CancellationToken cancellationToken)
    {
        if (_cache is null)
        {
            return;
        }

        try
        {
            await BoundedAsync(
                async (cache, key, token) =>
                {
                    await cache.RemoveAsync(key, token).ConfigureAwait(false);
                    return true;
                },
                registration,
                cancellationToken).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // See the summary.
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
#pragma warning restore CA1031
        {
            Failed("remove", registration, ex);
        }
    }

    private async Task<T> BoundedAsync<T>(Func<IDistributedCache, string, CancellationToken, Task<T>> operation, Registration registration, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_options.DistributedCacheTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);

        // WaitAsync: a cache that ignores its token must not hold us past the timeout.
        return await operation(_cache!, _options.CacheKeyPrefix + registration.CacheId.CacheKey, linked.Token).WaitAsync(linked.Token).ConfigureAwait(false);
    }

    private void Failed(string operation, Registration registration, Exception exception)
    {
        _metrics.CacheErrors.Add(1, new KeyValuePair<string, object?>("operation", operation));
        if (operation == "read")
        {
            Log.CacheReadFailed(_logger, registration.DisplayName, exception);
        }
        else
        {
            Log.CacheWriteFailed(_logger, registration.DisplayName, exception);
        }
    }
}
