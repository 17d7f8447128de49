using System.Diagnostics.Metrics;
using System.Security.Cryptography.X509Certificates;
using Ocsp.Stapling.Internal;
using Ocsp.Stapling.Testing;
using Xunit.Abstractions;

namespace Ocsp.Stapling.CacheConformance;

/// <summary>
/// Providers in separate service providers (the nodes of a fleet) sharing one networked store, against one responder:
/// how many upstream requests a fleet makes, what an outage of the store does, and a restart of every node with the
/// responder down. Derive once per networked backend (PostgreSQL, Redis).
/// </summary>
public abstract class SharedStoreFleetTests : IAsyncLifetime
{
    private readonly List<ProviderHost> _nodes = [];
    private readonly ITestOutputHelper _output;
    private FakeTimeProvider _time = null!;
    private TestOcspResponder _responder = null!;
    private TestPki _pki = null!;

    protected SharedStoreFleetTests(ITestOutputHelper output) => _output = output;

    /// <summary>Gets the backend's name, for the test output.</summary>
    protected abstract string StoreName { get; }

    /// <summary>Gets where the store's server listens (the relay of the outage test forwards there).</summary>
    protected abstract (string Host, int Port) StoreEndpoint { get; }

    /// <summary>Gets where the fake clock starts: a store that expires entries on its own clock needs the real now.</summary>
    protected virtual DateTimeOffset Start => FakeTimeProvider.DefaultStart;

    public async Task InitializeAsync()
    {
        _time = new FakeTimeProvider(Start);
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
        SkipIfUnavailable();
        ProviderHost[] fleet = [StartNode(), StartNode(), StartNode()];

        foreach (ProviderHost node in fleet)
        {
            await node.RunDueAsync(CancellationToken.None);
            Assert.True(node.Provider.TryGetCachedStaple(_pki.Leaf, out _));
        }

        Assert.Equal(1, _responder.RequestCount);

        DateTimeOffset end = _time.GetUtcNow().AddDays(14);
        while (fleet.Min(n => n.State.NextRefresh!.Value) is var next && next <= end)
        {
            _time.SetUtcNow(next);
            foreach (ProviderHost node in fleet)
            {
                await node.RunDueAsync(CancellationToken.None);
                Assert.True(node.Provider.TryGetCachedStaple(_pki.Leaf, out _));
            }
        }

        // Responses valid 4 days, refreshed at half-life (±10 % jitter): 7 refresh periods in 14 days.
        const int periods = 7;
        _output.WriteLine($"Upstream requests over 14 simulated days, 3 nodes on {StoreName}: {_responder.RequestCount} (1 first + {_responder.RequestCount - 1} refreshes for {periods} periods)");
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
    public async Task StoreDown_LookupsAnswerFromMemory_RefreshesReachTheResponder_ErrorsLoggedAndCounted_WritesResumeWhenBack()
    {
        SkipIfUnavailable();
        (string host, int port) = StoreEndpoint;
        await using var relay = new TcpRelay(host, port);
        ProviderHost node = StartNode(relay.Port);
        var cacheErrors = new List<string>();
        using MeterListener listener = ListenForCacheErrors(node, cacheErrors);

        await node.RunDueAsync(CancellationToken.None);
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
            await node.RunDueAsync(CancellationToken.None);

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
        await WhenStoreReconnectedAsync();
        _time.SetUtcNow(node.State.NextRefresh!.Value);
        await node.RunDueAsync(CancellationToken.None);

        Assert.Equal(4, cacheErrors.Count);
        Assert.Equal(node.State.Staple!.Encoded.ToArray(), await StoredStapleAsync());
    }

    [SkippableFact]
    public async Task RestartOfEveryNode_WithTheResponderDown_AllStapleFromTheStoreOnTheirFirstLookup()
    {
        SkipIfUnavailable();
        ProviderHost[] fleet = [StartNode(), StartNode(), StartNode()];
        foreach (ProviderHost node in fleet)
        {
            await node.RunDueAsync(CancellationToken.None);
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

    [SkippableFact]
    public async Task CertificateIds_OnlyRealOnesAreStored_AForgottenOneIsLeftForTheFleetUntilItsNextUpdate()
    {
        SkipIfUnavailable();
        ProviderHost node = StartNode();
        using X509Certificate2 other = _pki.IssueLeaf("forgotten.test", _responder.Url, mustStaple: false);
        OcspCertificateId real = OcspCertificateId.Create(other, _pki.Intermediate, OcspHashAlgorithm.Sha1);
        _responder.IssuedSerials = new HashSet<string>([real.SerialNumberHex, OcspCertificateId.Create(_pki.Leaf, _pki.Intermediate).SerialNumberHex], StringComparer.Ordinal);
        OcspCertificateId junk = JunkSerials.CertificateIdLike(real);

        // A serial the CA never issued: its signed unknown answer comes back, and nothing is stored.
        OcspRefreshResult unknown = (await node.Provider.AskOnceAsync(junk, _pki.Intermediate, [_responder.Url], () => true))!;
        Assert.Equal((OcspCertificateStatus.Unknown, OcspFailureReason.CertificateUnknown), (unknown.Response?.Status, unknown.Failure?.Reason));
        Assert.Null(await ReadRawAsync(Key(junk)));

        // A real one: stored once registered with its answer; forgotten (unregistered), its entry stays for the other
        // nodes until its nextUpdate, when the backend expires it.
        OcspRefreshResult good = (await node.Provider.AskOnceAsync(real, _pki.Intermediate, [_responder.Url], () => true))!;
        Assert.True(await node.Provider.RegisterAnsweredAsync(real, _pki.Intermediate, [_responder.Url], good));
        Assert.NotNull(await ReadRawAsync(Key(real)));
        Assert.True(node.Provider.Unregister(real));
        Assert.NotNull(await ReadRawAsync(Key(real)));
        Assert.Null(node.Provider.GetState(real));
        Assert.Equal(2, _responder.ReceivedCertificateIds.Count(id => !id.Equals(OcspCertificateId.Create(_pki.Leaf, _pki.Intermediate))));
    }

    /// <summary>Skips the test (<c>Skip.If</c>) when the backend is not available, with how to make it so.</summary>
    protected abstract void SkipIfUnavailable();

    /// <summary>Makes the node's shared store this backend: through 127.0.0.1:<paramref name="relayPort"/> when given, with a store timeout of about a second.</summary>
    protected abstract void UseStore(IOcspStaplingBuilder builder, int? relayPort);

    /// <summary>Reads the raw value the backend holds for <paramref name="key"/>, straight from the server.</summary>
    protected abstract Task<byte[]?> ReadRawAsync(string key);

    /// <summary>Waits for a client that reconnects in the background (Redis) to be connected again after the relay is back.</summary>
    protected virtual Task WhenStoreReconnectedAsync() => Task.CompletedTask;

    private ProviderHost StartNode(int? relayPort = null)
    {
        var node = new ProviderHost(_time, b => UseStore(b, relayPort), o => o.Refresh.Jitter = 0.1);
        node.Provider.Register(_pki.Leaf, _pki.Intermediate);
        _nodes.Add(node);
        return node;
    }

    private static string Key(OcspCertificateId id) => "ocsp-stapling:" + id.CacheKey;

    /// <summary>The staple bytes stored for the leaf, read straight from the store.</summary>
    private async Task<byte[]?> StoredStapleAsync()
    {
        string key = "ocsp-stapling:" + OcspCertificateId.Create(_pki.Leaf, _pki.Intermediate, OcspHashAlgorithm.Sha1).CacheKey;
        return await ReadRawAsync(key) is { } entry && StapleCacheEntry.TryDeserialize(entry, out _, out ReadOnlyMemory<byte> der) ? der.ToArray() : null;
    }

    private static MeterListener ListenForCacheErrors(ProviderHost node, List<string> operations)
    {
        var listener = new MeterListener();
        Meter meter = node.Metrics.CacheErrors.Meter;
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
