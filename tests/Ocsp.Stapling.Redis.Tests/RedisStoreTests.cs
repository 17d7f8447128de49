using Ocsp.Stapling.Internal;
using Ocsp.Stapling.Tool;
using StackExchange.Redis;

namespace Ocsp.Stapling.Redis.Tests;

/// <summary>
/// The tool's <c>--redis</c> store against whoever can write the server: a value larger than the reader accepts never
/// crosses the network, whichever field holds it and however it is swapped in while the read runs (a relay between the
/// store and the server counts what the server sent it).
/// </summary>
public sealed class RedisStoreTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private const int Limit = 64 * 1024;
    private const int Huge = 32 * 1024 * 1024;

    private IDatabase Server => redis.Connection!.GetDatabase();

    [SkippableTheory]
    [InlineData("data")]
    [InlineData("sldexp")]
    [InlineData("absexp")]
    public async Task AHugeField_IsRefusedWithoutCrossingTheNetwork(string field)
    {
        redis.SkipIfUnavailable();
        string instance = RedisFixture.NewInstanceName();
        await using var relay = new Ocsp.Stapling.Testing.TcpRelay(redis.Endpoint.Host, redis.Endpoint.Port);
        using var sut = new RedisStore(ConfigurationOptions.Parse(redis.ConfigurationVia(relay.Port)), instance);
        await Server.HashSetAsync(instance + "k", [new("data", new byte[500]), new("absexp", "-1"), new("sldexp", "-1")]);
        await Server.HashSetAsync(instance + "k", field, new byte[Huge]);
        await sut.TryGetAsync("warm-up", new BoundedBufferWriter(Limit)); // connected
        long sentBefore = relay.BytesTowardsClients;

        bool read;
        try
        {
            read = await sut.TryGetAsync("k", new BoundedBufferWriter(Limit));
        }
        catch (StoreEntryTooLargeException)
        {
            read = false; // a huge data field: refused by the destination when told its size
        }

        long sent = relay.BytesTowardsClients - sentBefore;
        Assert.False(read);
        Assert.True(sent < 1024 * 1024, $"the server sent {sent} bytes for one read");
        await Server.KeyDeleteAsync(instance + "k");
    }

    [SkippableFact]
    public async Task AValueSwappedForAHugeOneWhileItIsRead_IsRefusedToo()
    {
        redis.SkipIfUnavailable();
        string instance = RedisFixture.NewInstanceName();
        await using var relay = new Ocsp.Stapling.Testing.TcpRelay(redis.Endpoint.Host, redis.Endpoint.Port);
        using var sut = new RedisStore(ConfigurationOptions.Parse(redis.ConfigurationVia(relay.Port)), instance);
        RedisKey key = instance + "k";
        await Server.HashSetAsync(key, [new("data", new byte[500]), new("absexp", "-1"), new("sldexp", "-1")]);
        await Server.HashSetAsync(instance + "huge", [new("data", new byte[Huge]), new("absexp", "-1"), new("sldexp", "-1")]);
        await Server.HashSetAsync(instance + "small", [new("data", new byte[500]), new("absexp", "-1"), new("sldexp", "-1")]);

        // The destination accepts the small size it is told of; then the key holds the huge value (as if swapped in between).
        var swapping = new SwappingWriter(Limit, () => Server.KeyCopy(instance + "huge", key, replace: true));
        await sut.TryGetAsync("warm-up", new BoundedBufferWriter(Limit)); // connected
        long sentBefore = relay.BytesTowardsClients;
        bool read;
        try
        {
            read = await sut.TryGetAsync("k", swapping);
        }
        catch (StoreEntryTooLargeException)
        {
            read = false;
        }

        long sent = relay.BytesTowardsClients - sentBefore;
        Assert.False(read);
        Assert.True(sent < 1024 * 1024, $"the server sent {sent} bytes for one read");
        await Server.KeyDeleteAsync([key, instance + "huge", instance + "small"]);
    }

    /// <summary>A bounded destination that runs <c>swap</c> the first time it accepts a size.</summary>
    private sealed class SwappingWriter(int limit, Action swap) : System.Buffers.IBufferWriter<byte>
    {
        private readonly BoundedBufferWriter _inner = new(limit);
        private bool _swapped;

        public void Advance(int count) => _inner.Advance(count);

        public Memory<byte> GetMemory(int sizeHint = 0) => _inner.GetMemory(Swap(sizeHint));

        public Span<byte> GetSpan(int sizeHint = 0) => _inner.GetSpan(Swap(sizeHint));

        private int Swap(int sizeHint)
        {
            if (!_swapped && sizeHint <= limit)
            {
                _swapped = true;
                swap();
            }

            return sizeHint;
        }
    }
}
