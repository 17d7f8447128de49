using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using Ocsp.Stapling.CacheConformance;
using StackExchange.Redis;

namespace Ocsp.Stapling.Redis.Tests;

/// <summary>
/// The conformance suite over Redis through <c>Microsoft.Extensions.Caching.StackExchangeRedis</c>, a new key prefix per
/// test. Redis expires keys on the server's own clock, which the suite's fake clock cannot move: the expiry cases are
/// replaced by a check of the time-to-live the server was given.
/// </summary>
public sealed class RedisConformanceTests(RedisFixture redis) : SharedStoreConformanceTests, IClassFixture<RedisFixture>, IDisposable
{
    private readonly string _instance = RedisFixture.NewInstanceName();
    private readonly List<RedisCache> _caches = [];

    protected override bool ExpiresOnTheCacheClock => false;

    protected override IDistributedCache CreateCache()
    {
        redis.SkipIfUnavailable();
        var cache = new RedisCache(new RedisCacheOptions { Configuration = redis.Configuration, InstanceName = _instance });
        _caches.Add(cache);
        return cache;
    }

    public void Dispose() => _caches.ForEach(c => c.Dispose());

    [SkippableFact]
    public async Task Expiry_IsGivenToTheServerAsTheKeysTimeToLive()
    {
        IDistributedCache sut = CreateCache();
        IDatabase database = redis.Connection!.GetDatabase();

        await sut.SetAsync("absolute", [1], new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(10) });
        await sut.SetAsync("sliding", [2], new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(3) });
        await sut.SetAsync("never", [3], new DistributedCacheEntryOptions());

        TimeSpan? absolute = await database.KeyTimeToLiveAsync(_instance + "absolute");
        TimeSpan? sliding = await database.KeyTimeToLiveAsync(_instance + "sliding");
        Assert.InRange(absolute!.Value, TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(10));
        Assert.InRange(sliding!.Value, TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(3));
        Assert.Null(await database.KeyTimeToLiveAsync(_instance + "never"));
    }
}
