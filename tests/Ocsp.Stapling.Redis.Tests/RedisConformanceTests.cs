using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using Ocsp.Stapling.CacheConformance;
using StackExchange.Redis;

namespace Ocsp.Stapling.Redis.Tests;

/// <summary>
/// The conformance suite over Redis through <c>Microsoft.Extensions.Caching.StackExchangeRedis</c>, a new key prefix per
/// test (the layout apps using <c>UseDistributedCache(new RedisCache(…))</c> write).
/// </summary>
public sealed class RedisConformanceTests(RedisFixture redis) : RedisBackedConformanceTests(redis)
{
    // RedisCache receives the whole value from the server, then copies it in segments: refused at the limit, but only
    // after the value crossed the network. The tool's RedisStore asks for the size first.
    protected override bool AnnouncesValueSize => false;

    protected override IDistributedCache NewCache(string configuration, string instanceName) =>
        new RedisCache(new RedisCacheOptions { Configuration = configuration, InstanceName = instanceName });
}

/// <summary>
/// The same suite over the tool's <c>--redis</c> store (<see cref="Tool.RedisStore"/>): the same layout, reads that ask
/// for the value's size before fetching it.
/// </summary>
public sealed class RedisStoreConformanceTests(RedisFixture redis) : RedisBackedConformanceTests(redis)
{
    protected override IDistributedCache NewCache(string configuration, string instanceName) =>
        new Tool.RedisStore(ConfigurationOptions.Parse(configuration), instanceName);
}

/// <summary>
/// The conformance suite over a Redis server. Redis expires keys on the server's own clock, which the suite's fake clock
/// cannot move: the expiry cases are overridden to check the time-to-live the server holds, and time passing is played by
/// shortening it (<c>PEXPIRE</c>).
/// </summary>
public abstract class RedisBackedConformanceTests(RedisFixture redis) : SharedStoreConformanceTests, IClassFixture<RedisFixture>, IDisposable
{
    private readonly string _instance = RedisFixture.NewInstanceName();
    private readonly List<IDisposable> _caches = [];

    protected override bool ExpiresOnTheCacheClock => false;

    private IDatabase Server => redis.Connection!.GetDatabase();

    public void Dispose()
    {
        _caches.ForEach(c => c.Dispose());
        GC.SuppressFinalize(this);
    }

    /// <summary>A cache over the server of <paramref name="configuration"/>, its keys prefixed by <paramref name="instanceName"/>.</summary>
    protected abstract IDistributedCache NewCache(string configuration, string instanceName);

    protected override IDistributedCache CreateCache()
    {
        redis.SkipIfUnavailable();
        IDistributedCache cache = NewCache(redis.Configuration, _instance);
        _caches.Add((IDisposable)cache);
        return cache;
    }

    [SkippableFact]
    public override async Task AbsoluteExpiration_ReadableUntilItThenAbsent()
    {
        IDistributedCache sut = CreateCache();
        await sut.SetAsync("k", [1], new DistributedCacheEntryOptions { AbsoluteExpiration = DateTimeOffset.UtcNow.AddHours(1) });

        Assert.InRange(await TimeToLiveAsync("k"), TimeSpan.FromMinutes(59), TimeSpan.FromHours(1));
        await ElapseAllButAsync("k", TimeSpan.FromMinutes(1));
        Assert.NotNull(await sut.GetAsync("k"));
        await ElapseAllButAsync("k", TimeSpan.Zero); // the hour is over: a time-to-live of 0 expires the key at once
        Assert.Null(await sut.GetAsync("k"));
        Assert.Null(CreateCache().Get("k"));
    }

    [SkippableFact]
    public override async Task AbsoluteExpirationRelativeToNow_CountsFromTheSet()
    {
        IDistributedCache sut = CreateCache();
        await sut.SetAsync("k", [1], new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(10) });

        Assert.InRange(await TimeToLiveAsync("k"), TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(10));
    }

    [SkippableFact]
    public override async Task SlidingExpiration_ExtendedByGet()
    {
        IDistributedCache sut = CreateCache();
        await sut.SetAsync("k", [1], new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(10) });
        await ElapseAllButAsync("k", TimeSpan.FromMinutes(2)); // 8 of the 10 minutes gone

        Assert.NotNull(await sut.GetAsync("k"));

        Assert.InRange(await TimeToLiveAsync("k"), TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(10));
    }

    [SkippableFact]
    public override async Task SlidingExpiration_ExtendedByRefresh_NotByTime()
    {
        IDistributedCache sut = CreateCache();
        await sut.SetAsync("refreshed", [1], new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(10) });
        await sut.SetAsync("idle", [2], new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(10) });
        await ElapseAllButAsync("refreshed", TimeSpan.FromMinutes(2));
        await ElapseAllButAsync("idle", TimeSpan.FromMinutes(2));

        await sut.RefreshAsync("refreshed");
        await sut.RefreshAsync("never-set");

        Assert.InRange(await TimeToLiveAsync("refreshed"), TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(10));
        Assert.InRange(await TimeToLiveAsync("idle"), TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(2));
        Assert.False(await Server.KeyExistsAsync(_instance + "never-set"));
    }

    [SkippableFact]
    public override async Task SlidingExpiration_NeverOutlivesTheAbsoluteOne()
    {
        IDistributedCache sut = CreateCache();
        await sut.SetAsync("k", [1], new DistributedCacheEntryOptions
        {
            SlidingExpiration = TimeSpan.FromMinutes(10),
            AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(4),
        });

        Assert.InRange(await TimeToLiveAsync("k"), TimeSpan.FromMinutes(3), TimeSpan.FromMinutes(4));
        await sut.RefreshAsync("k");
        Assert.InRange(await TimeToLiveAsync("k"), TimeSpan.FromMinutes(3), TimeSpan.FromMinutes(4));
    }

    [SkippableFact]
    public override async Task SlidingRefresh_ByOneInstance_KeepsTheEntryForAnother()
    {
        IDistributedCache first = CreateCache();
        IDistributedCache second = CreateCache();
        await first.SetAsync("k", [1], new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(10) });
        await ElapseAllButAsync("k", TimeSpan.FromMinutes(2));

        await first.RefreshAsync("k");

        Assert.InRange(await TimeToLiveAsync("k"), TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(10));
        Assert.NotNull(await second.GetAsync("k"));
    }

    private async Task<TimeSpan> TimeToLiveAsync(string key) =>
        await Server.KeyTimeToLiveAsync(_instance + key) ?? throw new Xunit.Sdk.XunitException($"'{key}' has no time-to-live on the server.");

    /// <summary>Plays time passing on the server's clock: the key keeps only <paramref name="left"/> of its life.</summary>
    private async Task ElapseAllButAsync(string key, TimeSpan left) =>
        Assert.True(await Server.KeyExpireAsync(_instance + key, left), $"'{key}' is not on the server.");
}
