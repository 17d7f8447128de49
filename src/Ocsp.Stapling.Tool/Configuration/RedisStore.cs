using System.Buffers;
using System.Globalization;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using StackExchange.Redis;

namespace Ocsp.Stapling.Tool;

/// <summary>
/// The Redis store of <c>--redis</c>: <see cref="RedisCache"/> for writes and deletes (the layout every app using
/// <c>UseDistributedCache(new RedisCache(…))</c> shares: a hash with <c>data</c>, <c>absexp</c> and <c>sldexp</c> fields),
/// and reads that never receive more than the destination accepts. A read first learns the value's size, hands it to
/// the destination (which refuses an oversized one there), then runs one script that returns the hash's fields only if
/// <c>data</c> is still at most that size and the expiration fields are numbers — atomically, so a value swapped between
/// the two calls is refused too, and no field of any size crosses the network unchecked.
/// </summary>
internal sealed class RedisStore : IDistributedCache, IBufferDistributedCache, IDisposable
{
    // KEYS[1] the key; ARGV[1] the most bytes of data the caller accepts (-1: none, just say the size).
    // Returns {} (no such entry), {size} (data larger than accepted), {-1} (the expiration fields are not numbers), or
    // {size, data, absexp, sldexp}.
    private const string Read = """
        local size = redis.call('HSTRLEN', KEYS[1], 'data')
        if size == 0 and redis.call('HEXISTS', KEYS[1], 'data') == 0 then return {} end
        if size > tonumber(ARGV[1]) then return {size} end
        if redis.call('HSTRLEN', KEYS[1], 'absexp') > 20 or redis.call('HSTRLEN', KEYS[1], 'sldexp') > 20 then return {-1} end
        local fields = redis.call('HMGET', KEYS[1], 'data', 'absexp', 'sldexp')
        return {size, fields[1], fields[2] or '-1', fields[3] or '-1'}
        """;

    private const int Attempts = 3;
    private static readonly LuaScript ReadScript = LuaScript.Prepare(Read);

    private readonly RedisCache _cache;
    private readonly Lazy<Task<IConnectionMultiplexer>> _connection;
    private readonly string _prefix;
    private readonly TimeProvider _time;

    /// <summary>A store over the server of <paramref name="configuration"/>; keys prefixed by <paramref name="instanceName"/> as <see cref="RedisCacheOptions.InstanceName"/> does (the tool uses none).</summary>
    public RedisStore(ConfigurationOptions configuration, string instanceName = "", TimeProvider? time = null)
    {
        // One connection for both: the cache's writes and our reads.
        _connection = new(() => ConnectAsync(configuration), LazyThreadSafetyMode.ExecutionAndPublication);
        _prefix = instanceName;
        _time = time ?? TimeProvider.System;
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
        long accepted = -1;
        for (int attempt = 0; attempt < Attempts; attempt++)
        {
            var reply = (RedisResult[]?)await database.ScriptEvaluateAsync(ReadScript.ExecutableScript, [redisKey], [accepted]).WaitAsync(token).ConfigureAwait(false);
            switch (reply)
            {
                case null or []:
                    return false;
                case [var size]:
                    long length = (long)size;
                    if (length < 0)
                    {
                        return false; // expiration fields that are not numbers: not an entry RedisCache wrote
                    }

                    // The destination sees the size before any byte crosses the network, and refuses an oversized value here.
                    _ = destination.GetSpan((int)Math.Min(length, int.MaxValue));
                    accepted = length;
                    continue;
                case [_, var data, var absolute, var sliding]:
                    destination.Write((byte[])data!);
                    await RefreshSlidingAsync(database, redisKey, (string?)absolute, (string?)sliding).ConfigureAwait(false);
                    return true;
                default:
                    return false;
            }
        }

        return false; // rewritten larger at every attempt: whoever does that gets nothing
    }

    public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => _cache.Set(key, value, options);

    public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default) => _cache.SetAsync(key, value, options, token);

    public void Set(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options) => _cache.Set(key, value.ToArray(), options);

    public ValueTask SetAsync(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options, CancellationToken token = default) =>
        new(_cache.SetAsync(key, value.ToArray(), options, token));

    public void Refresh(string key) => RefreshAsync(key).GetAwaiter().GetResult();

    public async Task RefreshAsync(string key, CancellationToken token = default)
    {
        var ignored = new ArrayBufferWriter<byte>();
        await TryGetAsync(key, ignored, token).ConfigureAwait(false); // a bounded read moves a sliding expiration, as RedisCache's Refresh does
    }

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

    /// <summary>
    /// A sliding expiration moves on a read (RedisCache's layout: <c>sldexp</c> in ticks, -1 for none; <c>absexp</c> the
    /// absolute one in UTC ticks, -1 for none): the key lives the sliding time from now, never past the absolute one.
    /// The provider sets no sliding expiration: for it this is nothing.
    /// </summary>
    private async Task RefreshSlidingAsync(IDatabase database, RedisKey key, string? absolute, string? sliding)
    {
        if (!long.TryParse(sliding, NumberStyles.Integer, CultureInfo.InvariantCulture, out long slidingTicks) || slidingTicks <= 0)
        {
            return;
        }

        TimeSpan ttl = TimeSpan.FromTicks(slidingTicks);
        if (long.TryParse(absolute, NumberStyles.Integer, CultureInfo.InvariantCulture, out long absoluteTicks) && absoluteTicks > 0)
        {
            TimeSpan left = new DateTimeOffset(absoluteTicks, TimeSpan.Zero) - _time.GetUtcNow();
            ttl = left < ttl ? left : ttl;
        }

        if (ttl > TimeSpan.Zero)
        {
            await database.KeyExpireAsync(key, ttl).ConfigureAwait(false);
        }
    }
}
