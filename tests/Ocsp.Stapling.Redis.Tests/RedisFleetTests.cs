using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.DependencyInjection;
using Ocsp.Stapling.CacheConformance;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace Ocsp.Stapling.Redis.Tests;

/// <summary>The fleet, outage and restart tests on one Redis, the nodes sharing a key prefix.</summary>
public sealed class RedisFleetTests(RedisFixture redis, ITestOutputHelper output) : SharedStoreFleetTests(output), IClassFixture<RedisFixture>
{
    private readonly string _instance = RedisFixture.NewInstanceName();

    protected override string StoreName => "Redis";

    protected override (string Host, int Port) StoreEndpoint => redis.Endpoint;

    // RedisCache computes a key's time-to-live from the real clock: the fake clock starts at the real now.
    protected override DateTimeOffset Start => TimeProvider.System.GetUtcNow();

    protected override void SkipIfUnavailable() => redis.SkipIfUnavailable();

    protected override void UseStore(IOcspStaplingBuilder builder, int? relayPort)
    {
        string configuration = redis.ConfigurationVia(relayPort);
        builder.UseDistributedCache(_ => new RedisCache(new RedisCacheOptions { Configuration = configuration, InstanceName = _instance }));
    }

    protected override async Task<byte[]?> ReadRawAsync(string key) =>
        await redis.Connection!.GetDatabase().HashGetAsync(_instance + key, "data") is { IsNull: false } value ? (byte[])value! : null;
}
