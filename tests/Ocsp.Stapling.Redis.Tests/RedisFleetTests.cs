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

    private readonly List<ConnectionMultiplexer> _connections = [];

    protected override void UseStore(IOcspStaplingBuilder builder, int? relayPort)
    {
        ConnectionMultiplexer connection = ConnectionMultiplexer.Connect(redis.ConfigurationVia(relayPort));
        _connections.Add(connection);
        builder.UseDistributedCache(_ => new RedisCache(new RedisCacheOptions
        {
            ConnectionMultiplexerFactory = () => Task.FromResult<IConnectionMultiplexer>(connection),
            InstanceName = _instance,
        }));
    }

    /// <summary>StackExchange.Redis reconnects in the background: wait for its ConnectionRestored signal.</summary>
    protected override async Task WhenStoreReconnectedAsync()
    {
        foreach (ConnectionMultiplexer connection in _connections)
        {
            var restored = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            connection.ConnectionRestored += (_, _) => restored.TrySetResult();
            if (!connection.IsConnected)
            {
                await restored.Task.WaitAsync(TimeSpan.FromSeconds(30));
            }
        }
    }

    protected override async Task<byte[]?> ReadRawAsync(string key) =>
        await redis.Connection!.GetDatabase().HashGetAsync(_instance + key, "data") is { IsNull: false } value ? (byte[])value! : null;
}
