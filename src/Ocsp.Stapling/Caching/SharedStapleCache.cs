using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Logging;

namespace Ocsp.Stapling.Internal;

/// <summary>
/// The shared cache (L2) as the provider uses it: entries keyed by SHA-1 CertID, re-validated on every read, each call
/// bounded by <see cref="OcspSharedStoreOptions.Timeout"/>. Failures and time-outs are logged and counted,
/// never thrown: the shared cache is optional.
/// </summary>
internal sealed class SharedStapleCache
{
    private static readonly KeyValuePair<string, object?> L2Tag = new("level", "l2");
    private static readonly KeyValuePair<string, object?> HitTag = new("result", "hit");
    private static readonly KeyValuePair<string, object?> MissTag = new("result", "miss");

    private readonly IDistributedCache? _cache;
    private readonly OcspSharedStoreOptions _options;
    private readonly OcspValidationOptions _validation;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly OcspStaplingMetrics _metrics;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _failureKinds = new(StringComparer.Ordinal);
    private readonly int _maxEntrySize;
    private int _failing; // how many kinds are in _failureKinds: read on every success without taking its locks
    private int _oversizedLogged;

    public SharedStapleCache(
        IDistributedCache cache, OcspSharedStoreOptions options, OcspValidationOptions validation, TimeProvider time, ILogger logger, OcspStaplingMetrics metrics)
    {
        _cache = cache is NoSharedCache ? null : cache;
        _options = options;
        _validation = validation;
        _time = time;
        _logger = logger;
        _metrics = metrics;

        // The largest entry a valid response makes: anything larger is refused before it is copied.
        _maxEntrySize = validation.MaxResponseSize + StapleCacheEntry.HeaderSize;
    }

    public bool IsEnabled => _cache is not null;

    /// <summary>Gets what the store is, for the start-up log: the file store's directory, or the backend's type.</summary>
    public string Description => _cache switch
    {
        null => "none",
        FileSystemDistributedCache files => $"files in {files.Directory}",
        { } other => other.GetType().Name,
    };

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
            value = await BoundedAsync((cache, key, token) => ReadBoundedAsync(cache, key, _maxEntrySize, token), Key(registration), cancellationToken).ConfigureAwait(false);
        }
        catch (StoreEntryTooLargeException ex)
        {
            Oversized(registration.DisplayName, ex);
            return null;
        }
#pragma warning disable CA1031 // Whatever the backend throws, the shared cache is optional.
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
#pragma warning restore CA1031
        {
            Failed("read", registration.DisplayName, ex);
            return null;
        }

        Succeeded("read");
        if (value is null || !StapleCacheEntry.TryDeserialize(value, out DateTimeOffset fetchedAt, out ReadOnlyMemory<byte> der))
        {
            _metrics.Lookups.Add(1, L2Tag, MissTag);
            return null;
        }

        // A shared store is not trusted: the entry must pass the same validation as a fresh response.
        OcspValidationResult result = OcspResponseValidator.Validate(der, registration.Subject, now, _validation);
        if (!result.IsValid || result.Staple.Status == OcspCertificateStatus.Unknown)
        {
            _metrics.Lookups.Add(1, L2Tag, MissTag);
            return null;
        }

        _metrics.Lookups.Add(1, L2Tag, HitTag);
        return result.Staple.WithFetchedAt(fetchedAt);
    }

    /// <summary>
    /// Reads the value under <paramref name="key"/> (after the key prefix) as it is, for another kind of entry than a staple
    /// (a CRL, validated by its reader): at most <paramref name="maxSize"/> bytes, bounded in time, failures logged as a
    /// staple's are (<paramref name="name"/> says whose). <see langword="null"/> when absent, too large or unreachable.
    /// </summary>
    public async Task<byte[]?> ReadRawAsync(string key, string name, int maxSize, CancellationToken cancellationToken)
    {
        if (_cache is null)
        {
            return null;
        }

        try
        {
            byte[]? value = await BoundedAsync((cache, k, token) => ReadBoundedAsync(cache, k, maxSize, token), _options.KeyPrefix + key, cancellationToken).ConfigureAwait(false);
            Succeeded("read");
            return value;
        }
        catch (StoreEntryTooLargeException ex)
        {
            Oversized(name, ex);
            return null;
        }
#pragma warning disable CA1031 // Whatever the backend throws, the shared cache is optional.
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
#pragma warning restore CA1031
        {
            Failed("read", name, ex);
            return null;
        }
    }

    /// <summary>Stores <paramref name="value"/> under <paramref name="key"/> until <paramref name="expires"/>. Best effort, as <see cref="WriteAsync"/>.</summary>
    public async Task WriteRawAsync(string key, string name, byte[] value, DateTimeOffset expires)
    {
        if (_cache is null)
        {
            return;
        }

        try
        {
            var entryOptions = new DistributedCacheEntryOptions { AbsoluteExpiration = expires };
            await BoundedAsync(
                async (cache, k, token) =>
                {
                    await cache.SetAsync(k, value, entryOptions, token).ConfigureAwait(false);
                    return true;
                },
                _options.KeyPrefix + key,
                CancellationToken.None).ConfigureAwait(false);
            Succeeded("write");
        }
#pragma warning disable CA1031 // Best effort: the value is already in use from memory.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Failed("write", name, ex);
        }
    }

    /// <summary>
    /// Reads a value of at most <paramref name="maxSize"/> bytes: through <see cref="IBufferDistributedCache"/> when the
    /// store has it (the bundled stores ask for the whole size before copying, and are refused then), else whole and
    /// checked after. Throws <see cref="StoreEntryTooLargeException"/> for a larger value.
    /// </summary>
    private static async Task<byte[]?> ReadBoundedAsync(IDistributedCache cache, string key, int maxSize, CancellationToken token)
    {
        if (cache is IBufferDistributedCache buffered)
        {
            var destination = new BoundedBufferWriter(maxSize);
            return await buffered.TryGetAsync(key, destination, token).ConfigureAwait(false) ? destination.ToArray() : null;
        }

        byte[]? value = await cache.GetAsync(key, token).ConfigureAwait(false);
        return value is { Length: var length } && length > maxSize ? throw new StoreEntryTooLargeException(length, maxSize) : value;
    }

    /// <summary>Counts an oversized entry, refused unread; the first one is a Warning, later ones Debug (whoever writes them can write many).</summary>
    private void Oversized(string name, StoreEntryTooLargeException exception)
    {
        _metrics.CacheOversized.Add(1);
        if (Interlocked.Exchange(ref _oversizedLogged, 1) == 0)
        {
            Log.CacheEntryOversized(_logger, name, exception.Message);
        }
        else
        {
            Log.CacheFailedAgain(_logger, "read", name, exception.Message);
        }
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
                Key(registration),
                CancellationToken.None).ConfigureAwait(false);
            Succeeded("write");
        }
#pragma warning disable CA1031 // The staple is already served from memory; the shared copy is best effort.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Failed("write", registration.DisplayName, ex);
        }
    }

    private string Key(Registration registration) => _options.KeyPrefix + registration.CacheId.CacheKey;

    private async Task<T> BoundedAsync<T>(Func<IDistributedCache, string, CancellationToken, Task<T>> operation, string key, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_options.Timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);

        // WaitAsync: a cache that ignores its token must not hold us past the timeout.
        return await operation(_cache!, key, linked.Token).WaitAsync(linked.Token).ConfigureAwait(false);
    }

    /// <summary>
    /// Counts a failure; logs the first of each kind (operation, exception type and error code: a full disk, a read-only
    /// directory, a refused connection) as a Warning with its exception, and repeats at Debug without it, until that
    /// operation works again: a failing store does not flood the log with one stack trace per certificate.
    /// </summary>
    private void Failed(string operation, string name, Exception exception)
    {
        _metrics.CacheErrors.Add(1, new KeyValuePair<string, object?>("operation", operation));
        string kind = $"{operation}:{exception.GetType().Name}:{exception.HResult}";
        if (!_failureKinds.TryAdd(kind, 0))
        {
            Log.CacheFailedAgain(_logger, operation, name, exception.Message);
            return;
        }

        Interlocked.Increment(ref _failing);
        if (exception is OperationCanceledException or TimeoutException)
        {
            // A slow store (a busy Redis, a far database): its bound says it all; a stack trace would say nothing more.
            Log.CacheTimedOut(_logger, operation, name, _options.Timeout);
        }
        else if (operation == "read")
        {
            Log.CacheReadFailed(_logger, name, exception);
        }
        else
        {
            Log.CacheWriteFailed(_logger, name, exception);
        }
    }

    /// <summary>An operation worked: after failures of it, says so once and forgets them (a new failure is logged in full again).</summary>
    private void Succeeded(string operation)
    {
        if (Volatile.Read(ref _failing) == 0)
        {
            return;
        }

        bool recovered = false;
        foreach (string kind in _failureKinds.Keys)
        {
            if (kind.StartsWith(operation + ":", StringComparison.Ordinal) && _failureKinds.TryRemove(kind, out _))
            {
                Interlocked.Decrement(ref _failing);
                recovered = true;
            }
        }

        if (recovered)
        {
            Log.CacheRecovered(_logger, operation);
        }
    }
}
