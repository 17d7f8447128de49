using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Caching.Distributed;

namespace Ocsp.Stapling.Internal;

internal sealed partial class OcspResponseProvider
{
    private static readonly KeyValuePair<string, object?> L2Tag = new("level", "l2");

    /// <summary>Reads and re-validates the shared-cache entry. Failures and time-outs are logged and counted, never thrown.</summary>
    private async Task<OcspStaple?> ReadCacheAsync(Registration registration, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (_cache is null)
        {
            return null;
        }

        byte[]? value;
        try
        {
            using var timeout = new CancellationTokenSource(_options.DistributedCacheTimeout, _time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);

            // WaitAsync: a cache that ignores its token must not hold us past the timeout.
            value = await _cache.GetAsync(CacheKey(registration), linked.Token).WaitAsync(linked.Token).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Whatever the backend throws, the shared cache is optional.
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
#pragma warning restore CA1031
        {
            _metrics.CacheErrors.Add(1, new KeyValuePair<string, object?>("operation", "read"));
            Log.CacheReadFailed(_logger, registration.DisplayName, ex);
            return null;
        }

        if (value is null || !StapleCacheEntry.TryDeserialize(value, out DateTimeOffset fetchedAt, out ReadOnlyMemory<byte> der))
        {
            _metrics.Lookups.Add(1, L2Tag, MissTag);
            return null;
        }

        // A shared store is not trusted: the entry must pass the same validation as a fresh response.
        OcspValidationResult result = OcspResponseValidator.Validate(der, registration.Certificate, registration.Issuer, now, _options.Validation);
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

    private async Task WriteCacheAsync(Registration registration, OcspStaple staple)
    {
        if (_cache is null)
        {
            return;
        }

        try
        {
            using var timeout = new CancellationTokenSource(_options.DistributedCacheTimeout, _time);
            var entryOptions = new DistributedCacheEntryOptions { AbsoluteExpiration = staple.NextUpdate };
            await _cache.SetAsync(CacheKey(registration), StapleCacheEntry.Serialize(staple), entryOptions, timeout.Token)
                .WaitAsync(timeout.Token).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The staple is already served from memory; the shared copy is best effort.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _metrics.CacheErrors.Add(1, new KeyValuePair<string, object?>("operation", "write"));
            Log.CacheWriteFailed(_logger, registration.DisplayName, ex);
        }
    }

    public async Task<bool> PruneAsync(X509Certificate2 certificate, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        if (Find(certificate) is not { } registration)
        {
            return false;
        }

        OcspStaple? held;
        lock (registration)
        {
            held = registration.Staple;
            registration.Staple = null;
            registration.Servable = null;
            registration.NextRefresh = _time.GetUtcNow();
        }

        if (_cache is not null)
        {
            try
            {
                using var timeout = new CancellationTokenSource(_options.DistributedCacheTimeout, _time);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
                await _cache.RemoveAsync(CacheKey(registration), linked.Token).WaitAsync(linked.Token).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // The memory copy is gone; a shared copy left behind is re-validated on read and replaced by the refresh.
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
#pragma warning restore CA1031
            {
                _metrics.CacheErrors.Add(1, new KeyValuePair<string, object?>("operation", "remove"));
                Log.CacheWriteFailed(_logger, registration.DisplayName, ex);
            }
        }

        Log.StaplePruned(_logger, registration.DisplayName);
        if (held is not null)
        {
            Raise(StapleRemoved, new OcspStapleRemovedEventArgs(registration.Certificate, held, OcspStapleRemovalReason.Pruned));
        }

        WakeScheduler();
        return true;
    }

    private string CacheKey(Registration registration) => _options.CacheKeyPrefix + registration.CacheId.CacheKey;
}
