using System.Diagnostics.Metrics;
using System.Security.Cryptography.X509Certificates;
using Ocsp.Stapling.Internal;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tests.Outcomes;

/// <summary>
/// Every value of the closed sets of outcomes (<see cref="OcspFailureReason"/>, <see cref="OcspStapleSource"/>,
/// <see cref="OcspStapleRemovalReason"/>), each produced from a real input, and reported under the same name in the
/// result, the event, the certificate's state, the log line and the metric's tag. A value added to an enum without an
/// input here fails its case.
/// </summary>
public sealed class OutcomeTests(ResponderFixture fixture) : IClassFixture<ResponderFixture>
{
    private readonly FakeTimeProvider _time = fixture.Reset();
    private readonly TestOcspResponder _responder = fixture.Responder;

    public static TheoryData<OcspFailureReason> FailureReasons => [.. Enum.GetValues<OcspFailureReason>()];

    public static TheoryData<OcspStapleSource> Sources => [.. Enum.GetValues<OcspStapleSource>()];

    public static TheoryData<OcspStapleRemovalReason> RemovalReasons => [.. Enum.GetValues<OcspStapleRemovalReason>()];

    [Theory]
    [MemberData(nameof(FailureReasons))]
    public async Task EveryFailureReason_FromARealInput_SameNameInResultEventStateLogAndMetric(OcspFailureReason reason)
    {
        X509Certificate2 leaf = reason == OcspFailureReason.NoResponder ? fixture.NewLeaf("no-responder", withOcspUrl: false) : fixture.NewLeaf(reason.ToString().ToLowerInvariant());
        using ProviderHost host = new(_time, b =>
        {
            b.UseMemoryOnly();
            if (reason == OcspFailureReason.InternalError)
            {
                // The application's own handler on the named client throws something no fetch expects.
                b.ConfigureHttpClient(c => c.AddHttpMessageHandler(() => new ThrowingHandler()));
            }
        }, o =>
        {
            o.Fetch.CircuitBreaker.MinimumThroughput = 2;
            o.Fetch.CircuitBreaker.SamplingDuration = TimeSpan.FromMinutes(10);
            o.Fetch.CircuitBreaker.BreakDuration = TimeSpan.FromHours(1);
            if (reason == OcspFailureReason.Disabled)
            {
                o.Fetch.ResponderOverrides[leaf.Thumbprint] = OcspFetchOptions.DisabledResponder;
            }

            if (reason == OcspFailureReason.Redirect)
            {
                o.Fetch.Redirects = OcspRedirectPolicy.None;
            }

            if (reason == OcspFailureReason.ProxyFailed)
            {
                o.Fetch.Proxy.Address = new Uri($"http://127.0.0.1:{ClosedPort()}/"); // a firewall's proxy that is down
            }
        });
        var events = new List<OcspStapleFailedEventArgs>();
        host.Provider.StapleFailed += (_, e) => events.Add(e);
        var tags = new List<string?>();
        using MeterListener listener = ListenForReasons(host, tags);
        host.Provider.Register(leaf, fixture.Pki.Intermediate);

        OcspRefreshResult result = await ProduceAsync(host, leaf, reason);

        Assert.Equal(reason, result.Failure?.Reason);
        Assert.Equal(reason, events.Last().Failure.Reason);
        Assert.Equal(reason, host.Provider.GetState(leaf)!.LastFailure?.Reason);
        string code = result.Failure!.Code;
        Assert.StartsWith(reason.ToString(), code, StringComparison.Ordinal);
        if (reason is OcspFailureReason.NoResponder or OcspFailureReason.Disabled)
        {
            // Not an outage: no warning, nothing counted as a failed fetch, nothing scheduled; said once at registration.
            Assert.Equal(OcspStapleSource.Memory, result.Source);
            Assert.Contains(host.Logs.Entries, e => e.EventId == Log.NoResponderId);
            Assert.Empty(tags);
            Assert.Equal(DateTimeOffset.MaxValue, host.Provider.GetState(leaf)!.NextRefresh);
            return;
        }

        Assert.Contains(host.Logs.Entries, e => e.EventId == Log.FetchFailedId && e.Message.Contains($"failed ({code}, attempt", StringComparison.Ordinal));
        if (reason is not (OcspFailureReason.NotNewer or OcspFailureReason.InternalError))
        {
            Assert.Contains(reason.ToString(), tags); // a failed fetch; NotNewer is a successful fetch, InternalError never finished one
        }
    }

    [Theory]
    [MemberData(nameof(Sources))]
    public async Task EverySource_FromARealInput_SameNameInResultEventStateAndLog(OcspStapleSource source)
    {
        X509Certificate2 leaf = fixture.NewLeaf("source-" + source.ToString().ToLowerInvariant());
        string store = fixture.NewCacheDirectory();
        var updates = new List<OcspStapleUpdatedEventArgs>();
        OcspRefreshResult result;
        ProviderHost host = new(_time, b => b.UseFileSystemCache(store));
        try
        {
            host.Provider.StapleUpdated += (_, e) => updates.Add(e);
            host.Provider.Register(leaf, fixture.Pki.Intermediate);
            switch (source)
            {
                case OcspStapleSource.Responder:
                    result = await host.Provider.RefreshAsync(leaf);
                    break;
                case OcspStapleSource.SharedStore:
                    // What one process fetched, the next one (a restart, another node) reads from the store; the responder is down.
                    await host.Provider.RefreshAsync(leaf);
                    host.Dispose();
                    _responder.Fault = ResponderFault.Down;
                    updates.Clear();
                    host = new ProviderHost(_time, b => b.UseFileSystemCache(store));
                    host.Provider.StapleUpdated += (_, e) => updates.Add(e);
                    host.Provider.Register(leaf, fixture.Pki.Intermediate);
                    result = await host.Provider.RefreshAsync(leaf);
                    break;
                case OcspStapleSource.Memory:
                    // Inside the failure back-off nobody is asked: the answer is what memory holds.
                    await host.Provider.RefreshAsync(leaf);
                    _time.Advance(TimeSpan.FromSeconds(1));
                    _responder.Fault = ResponderFault.Http500;
                    await host.Provider.RefreshAsync(leaf);
                    result = await host.Provider.RefreshAsync(leaf);
                    break;
                default:
                    throw new InvalidOperationException($"No input produces {source}: add one.");
            }

            Assert.Equal(source, result.Source);
            if (source == OcspStapleSource.Memory)
            {
                Assert.Equal(OcspStapleSource.Responder, host.Provider.GetState(leaf)!.StapleSource); // what is held came from the responder
                Assert.NotNull(result.Response);
                return;
            }

            Assert.Equal(source, updates.Last().Source);
            Assert.Equal(source, host.Provider.GetState(leaf)!.StapleSource);
            Assert.Contains(host.Logs.Entries, e => e.EventId == Log.StapleUpdatedId && e.Message.Contains($": Good from {source} ", StringComparison.Ordinal));
        }
        finally
        {
            host.Dispose();
            _responder.Fault = ResponderFault.None;
        }
    }

    [Theory]
    [MemberData(nameof(RemovalReasons))]
    public async Task EveryRemovalReason_FromARealInput(OcspStapleRemovalReason reason)
    {
        X509Certificate2 leaf = fixture.NewLeaf("removal-" + reason.ToString().ToLowerInvariant());
        using ProviderHost host = new(_time, b => b.UseMemoryOnly());
        var removals = new List<OcspStapleRemovedEventArgs>();
        host.Provider.StapleRemoved += (_, e) => removals.Add(e);
        host.Provider.Register(leaf, fixture.Pki.Intermediate);
        OcspStaple staple = (await host.Provider.RefreshAsync(leaf)).Response!;

        switch (reason)
        {
            case OcspStapleRemovalReason.Expired:
                _responder.Fault = ResponderFault.Down;
                _time.SetUtcNow(staple.NextUpdate);
                break;
            case OcspStapleRemovalReason.Unregistered:
                host.Provider.Unregister(leaf);
                break;
            default:
                throw new InvalidOperationException($"No input produces {reason}: add one.");
        }

        _responder.Fault = ResponderFault.None;
        OcspStapleRemovedEventArgs removed = Assert.Single(removals);
        Assert.Equal(reason, removed.Reason);
        Assert.Same(staple, removed.Staple);
        Assert.False(host.Provider.TryGetCachedStaple(leaf, out _));
    }

    /// <summary>Drives <paramref name="host"/>'s registered <paramref name="leaf"/> into a refresh that fails with <paramref name="reason"/>.</summary>
    private async Task<OcspRefreshResult> ProduceAsync(ProviderHost host, X509Certificate2 leaf, OcspFailureReason reason)
    {
        try
        {
            switch (reason)
            {
                case OcspFailureReason.InvalidResponse:
                    _responder.Fault = ResponderFault.Garbage;
                    return await host.Provider.RefreshAsync(leaf);
                case OcspFailureReason.CertificateUnknown:
                    _responder.Fault = ResponderFault.Unknown;
                    return await host.Provider.RefreshAsync(leaf);
                case OcspFailureReason.NotNewer:
                    await host.Provider.RefreshAsync(leaf); // the same instant: the responder answers with the same thisUpdate
                    return await host.Provider.RefreshAsync(leaf);
                case OcspFailureReason.HttpStatus:
                    _responder.Fault = ResponderFault.Http500;
                    return await host.Provider.RefreshAsync(leaf);
                case OcspFailureReason.ConnectionFailed:
                    _responder.Fault = ResponderFault.Down;
                    return await host.Provider.RefreshAsync(leaf);
                case OcspFailureReason.Timeout:
                    _responder.Fault = ResponderFault.Trickle;
                    Task<OcspRefreshResult> refresh = host.Provider.RefreshAsync(leaf);
                    await _responder.WhenRequestCountAsync(1);
                    _time.Advance(TimeSpan.FromSeconds(11)); // past the attempt timeout, on the fake clock
                    return await refresh;
                case OcspFailureReason.CircuitOpen:
                    _responder.Fault = ResponderFault.Http500;
                    await host.Provider.RefreshAsync(leaf);
                    _time.Advance(TimeSpan.FromMinutes(2)); // past the back-off: the next refresh asks again
                    await host.Provider.RefreshAsync(leaf);
                    _time.Advance(TimeSpan.FromMinutes(5));
                    return await host.Provider.RefreshAsync(leaf); // two failures of two: the host's circuit is open
                case OcspFailureReason.Redirect:
                    _responder.Fault = ResponderFault.Redirect;
                    _responder.RedirectLocation = TestOcspResponder.MovedPath + "{target}";
                    return await host.Provider.RefreshAsync(leaf);
                case OcspFailureReason.NoResponder:
                case OcspFailureReason.Disabled:
                    return await host.Provider.RefreshAsync(leaf);
                case OcspFailureReason.InternalError:
                case OcspFailureReason.ProxyFailed:
                    return await host.Provider.RefreshAsync(leaf);
                default:
                    throw new InvalidOperationException($"No input produces {reason}: add one.");
            }
        }
        finally
        {
            _responder.Fault = ResponderFault.None;
            _responder.ReleaseSlowRequests();
        }
    }

    private static int ClosedPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static MeterListener ListenForReasons(ProviderHost host, List<string?> reasons)
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (ReferenceEquals(instrument.Meter, host.Metrics.Meter) && instrument.Name == "ocsp.stapling.fetch.count")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                if (tag.Key == "reason")
                {
                    lock (reasons)
                    {
                        reasons.Add(tag.Value as string);
                    }
                }
            }
        });
        listener.Start();
        return listener;
    }

    private sealed class ThrowingHandler : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("The application's handler failed.");
    }
}
