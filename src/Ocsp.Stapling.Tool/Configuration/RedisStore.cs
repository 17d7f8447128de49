using System.Buffers;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using StackExchange.Redis;

namespace Ocsp.Stapling.Tool;

/// <summary>
/// The Redis store of <c>--redis</c>: <see cref="RedisCache"/> for writes and deletes (the layout every app using
/// <c>UseDistributedCache(new RedisCache(…))</c> shares: a hash with a <c>data</c> field), and reads that ask Redis for the
/// value's size first (<c>HSTRLEN</c>) and hand it to the destination before fetching it (<c>HGET</c>): a value larger than
/// any valid entry, written by whoever can write the server, is refused without a byte of it crossing the network.
/// </summary>
internal sealed class RedisStore : IDistributedCache, IBufferDistributedCache, IDisposable
{
    private const string DataField = "data";
    private readonly RedisCache _cache;
    private readonly Lazy<Task<IConnectionMultiplexer>> _connection;
    private readonly string _prefix;

    /// <summary>A store over the server of <paramref name="configuration"/>; keys prefixed by <paramref name="instanceName"/> as <see cref="RedisCacheOptions.InstanceName"/> does (the tool uses none).</summary>
    public RedisStore(ConfigurationOptions configuration, string instanceName = "")
    {
        // One connection for both: the cache's writes and our reads.
        _connection = new(() => ConnectAsync(configuration), LazyThreadSafetyMode.ExecutionAndPublication);
        _prefix = instanceName;
        _cache = new RedisCache(new RedisCacheOptions { ConnectionMultiplexerFactory = () => _connection.Value, InstanceName = instanceName });
    }

    public byte[]? Get(string key) => GetAsync(key).GetAwaiter().GetResult();

    public async Task<byte[]?> GetAsync(string key, CancellationToken token = default)
    {
        var all = new ArrayBufferWriter<byte>();
        return await TryGetAsync(key, all, token).ConfigureAwait(false) ? all.WrittenSpan.ToArray() : null;
    }

    public bool TryGet(string key, IBufferWriter<byte> destination) => TryGetAsync(key, destination).AsTask().GetAwaiter().GetResult();

    public async ValueTask<bool> TryGetAsync(string key, IBufferWriter<byte> destination, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(destination);
        IDatabase database = (await _connection.Value.WaitAsync(token).ConfigureAwait(false)).GetDatabase();
        RedisKey redisKey = _prefix + key;
        long length = await database.HashStringLengthAsync(redisKey, DataField).WaitAsync(token).ConfigureAwait(false);
        if (length > 0)
        {
            _ = destination.GetSpan((int)Math.Min(length, int.MaxValue)); // the destination refuses an oversized value here, unread
        }
        RedisValue value = await database.HashGetAsync(redisKey, DataField).WaitAsync(token).ConfigureAwait(false);
        if (value.IsNull)
        {
            return false; // no such key (HSTRLEN said 0), or deleted or expired in between
        }

        destination.Write((byte[])value!); // rewritten in between: the destination still bounds it

        // A sliding expiration moves on a read, as RedisCache's own Get does (the provider sets none: a no-op for it).
        await _cache.RefreshAsync(key, token).ConfigureAwait(false);
        return true;
    }

    public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => _cache.Set(key, value, options);

    public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default) => _cache.SetAsync(key, value, options, token);

    public void Set(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options) => _cache.Set(key, value.ToArray(), options);

    public ValueTask SetAsync(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options, CancellationToken token = default) =>
        new(_cache.SetAsync(key, value.ToArray(), options, token));

    public void Refresh(string key) => _cache.Refresh(key);

    public Task RefreshAsync(string key, CancellationToken token = default) => _cache.RefreshAsync(key, token);

    public void Remove(string key) => _cache.Remove(key);

    public Task RemoveAsync(string key, CancellationToken token = default) => _cache.RemoveAsync(key, token);

    public void Dispose()
    {
        _cache.Dispose();
        if (_connection.IsValueCreated && _connection.Value.IsCompletedSuccessfully)
        {
            _connection.Value.Result.Dispose();
        }
    }

    private static async Task<IConnectionMultiplexer> ConnectAsync(ConfigurationOptions configuration) =>
        await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false);
}
