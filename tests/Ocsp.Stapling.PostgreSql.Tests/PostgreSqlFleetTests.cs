using System.Diagnostics.Metrics;
using Npgsql;
using Ocsp.Stapling.Internal;
using Ocsp.Stapling.Testing;
using Xunit.Abstractions;

namespace Ocsp.Stapling.PostgreSql.Tests;

/// <summary>Providers in separate service providers (the nodes of a fleet) sharing one PostgreSQL table, against one responder.</summary>
public sealed class PostgreSqlFleetTests(PostgreSqlFixture database, ITestOutputHelper output) : IClassFixture<PostgreSqlFixture>, IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new();
    private readonly string _table = PostgreSqlFixture.NewTableName();
    private readonly List<ProviderHost> _nodes = [];
    private TestOcspResponder _responder = null!;
    private TestPki _pki = null!;

    public async Task InitializeAsync()
    {
        _responder = await TestOcspResponder.StartAsync(_time);
        _pki = TestPki.Create(_responder.Url, _time.GetUtcNow());
        _responder.AddIssuer(_pki.Intermediate);
    }

    public async Task DisposeAsync()
    {
        _nodes.ForEach(n => n.Dispose());
        await _responder.DisposeAsync();
        _pki.Dispose();
    }

    [SkippableFact]
    public async Task Fleet_ThreeNodes_OneUpstreamRequestForTheFirstStaple_AboutOnePerPeriod_AndANewNodeStaplesWithoutAsking()
    {
        database.SkipIfUnavailable();
        ProviderHost[] fleet = [StartNode(), StartNode(), StartNode()];

        foreach (ProviderHost node in fleet)
        {
            await node.Provider.RunDueAsync(CancellationToken.None);
            Assert.True(node.Provider.TryGetCachedStaple(_pki.Leaf, out _));
        }

        Assert.Equal(1, _responder.RequestCount);

        DateTimeOffset end = _time.GetUtcNow().AddDays(14);
        while (fleet.Min(n => n.State.NextRefresh!.Value) is var next && next <= end)
        {
            _time.SetUtcNow(next);
            foreach (ProviderHost node in fleet)
            {
                await node.Provider.RunDueAsync(CancellationToken.None);
                Assert.True(node.Provider.TryGetCachedStaple(_pki.Leaf, out _));
            }
        }

        // Responses valid 4 days, refreshed at half-life (±10 % jitter): 7 refresh periods in 14 days.
        const int periods = 7;
        output.WriteLine($"Upstream requests over 14 simulated days, 3 nodes on PostgreSQL: {_responder.RequestCount} (1 first + {_responder.RequestCount - 1} refreshes for {periods} periods)");
        Assert.InRange(_responder.RequestCount - 1, periods - 1, periods + 2);

        int before = _responder.RequestCount;
        ProviderHost fourth = StartNode();
        OcspStaple? staple = await fourth.Provider.WarmUpAsync(_pki.Leaf);

        Assert.NotNull(staple);
        Assert.True(fourth.Provider.TryGetCachedStaple(_pki.Leaf, out OcspStaple? looked));
        Assert.Equal(fleet[0].State.Staple!.Encoded.ToArray(), looked!.Encoded.ToArray());
        Assert.Equal(before, _responder.RequestCount);
    }

    [SkippableFact]
    public async Task PostgreSqlDown_LookupsAnswerFromMemory_RefreshesReachTheResponder_ErrorsLoggedAndCounted_WritesResumeWhenBack()
    {
        database.SkipIfUnavailable();
        var server = new NpgsqlConnectionStringBuilder(database.ConnectionString);
        await using var relay = new TcpRelay(server.Host!, server.Port);
        string viaRelay = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Port = relay.Port }.ConnectionString;
        ProviderHost node = StartNode(viaRelay);
        var cacheErrors = new List<string>();
        using MeterListener listener = ListenForCacheErrors(node, cacheErrors);

        await node.Provider.RunDueAsync(CancellationToken.None);
        OcspStaple first = node.State.Staple!;
        Assert.Equal(first.Encoded.ToArray(), await StoredStapleAsync());

        // Down: connections reset, new ones refused. Then hung: connections accepted, never answered.
        foreach (Action takeDown in new Action[] { relay.Stop, relay.Hang })
        {
            takeDown();
            int connections = relay.Accepted;
            for (int i = 0; i < 1000; i++)
            {
                Assert.True(node.Provider.TryGetCachedStaple(_pki.Leaf, out _));
            }

            Assert.Equal(connections, relay.Accepted); // the lookup path never touches the shared store

            int requests = _responder.RequestCount;
            _time.SetUtcNow(node.State.NextRefresh!.Value);
            await node.Provider.RunDueAsync(CancellationToken.None);

            Assert.Equal(requests + 1, _responder.RequestCount);
            Assert.True(node.State.Staple!.ThisUpdate > first.ThisUpdate);
            Assert.True(node.Provider.TryGetCachedStaple(_pki.Leaf, out OcspStaple? current));
            Assert.Same(node.State.Staple, current);
            first = current!;
        }

        Assert.Contains(node.Logs.Entries, e => e.EventId == Log.CacheReadFailedId);
        Assert.Contains(node.Logs.Entries, e => e.EventId == Log.CacheWriteFailedId);
        Assert.Equal(["read", "write", "read", "write"], cacheErrors);
        Assert.NotEqual(first.Encoded.ToArray(), await StoredStapleAsync());

        relay.Start();
        _time.SetUtcNow(node.State.NextRefresh!.Value);
        await node.Provider.RunDueAsync(CancellationToken.None);

        Assert.Equal(4, cacheErrors.Count);
        Assert.Equal(node.State.Staple!.Encoded.ToArray(), await StoredStapleAsync());
    }

    [SkippableFact]
    public async Task RestartOfEveryNode_WithTheResponderDown_AllStapleFromPostgreSqlOnTheirFirstLookup()
    {
        database.SkipIfUnavailable();
        ProviderHost[] fleet = [StartNode(), StartNode(), StartNode()];
        foreach (ProviderHost node in fleet)
        {
            await node.Provider.RunDueAsync(CancellationToken.None);
        }

        byte[] stapled = fleet[0].State.Staple!.Encoded.ToArray();
        foreach (ProviderHost node in fleet)
        {
            node.Dispose();
            _nodes.Remove(node);
        }

        _responder.Fault = ResponderFault.Down;
        _time.Advance(TimeSpan.FromHours(30)); // past the first refresh point, well before nextUpdate
        int requests = _responder.RequestCount;

        ProviderHost[] restarted = [StartNode(), StartNode(), StartNode()];
        OcspStaple?[] first = await Task.WhenAll(restarted.Select(n => n.Provider.GetStapleAsync(_pki.Leaf, _pki.Intermediate).AsTask()));

        Assert.All(first, s => Assert.Equal(stapled, s!.Encoded.ToArray()));
        Assert.All(restarted, n => Assert.True(n.Provider.TryGetCachedStaple(_pki.Leaf, out _)));
        Assert.Equal(requests, _responder.RequestCount);
    }

    private ProviderHost StartNode(string? connectionString = null)
    {
        var node = new ProviderHost(
            _time,
            b => b.UsePostgreSqlCache(connectionString ?? database.ConnectionString, o =>
            {
                o.SchemaName = database.Schema;
                o.TableName = _table;
                o.CommandTimeout = TimeSpan.FromSeconds(1);
            }),
            o => o.Jitter = 0.1);
        node.Provider.Register(_pki.Leaf, _pki.Intermediate);
        _nodes.Add(node);
        return node;
    }

    /// <summary>The staple bytes stored for the leaf, read straight from the table.</summary>
    private async Task<byte[]?> StoredStapleAsync()
    {
        string key = "ocsp-stapling:" + OcspCertificateId.Create(_pki.Leaf, _pki.Intermediate, OcspHashAlgorithm.Sha1).CacheKey;
        object? value = await database.ScalarAsync($"SELECT value FROM \"{database.Schema}\".\"{_table}\" WHERE id = @id", ("id", key));
        return value is byte[] entry && StapleCacheEntry.TryDeserialize(entry, out _, out ReadOnlyMemory<byte> der) ? der.ToArray() : null;
    }

    private static MeterListener ListenForCacheErrors(ProviderHost node, List<string> operations)
    {
        var listener = new MeterListener();
        Meter meter = node.Provider.Metrics.CacheErrors.Meter;
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, meter) && instrument.Name == "ocsp.stapling.cache.errors")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            lock (operations)
            {
                operations.Add((string)tags.ToArray().Single(t => t.Key == "operation").Value!);
            }
        });
        listener.Start();
        return listener;
    }
}
