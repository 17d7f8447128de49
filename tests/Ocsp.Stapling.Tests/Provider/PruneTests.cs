using System.Security.Cryptography.X509Certificates;
using Ocsp.Stapling.Internal;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tests.Provider;

/// <summary>
/// A prune (<see cref="OcspCertificateRegistry.PruneAsync"/>, a proxy's <c>X-Prune-From-Cache</c>) never makes things
/// worse (issue 19, item 2): it asks for a refetch, the held response is served until a newer one arrives, it respects
/// the failure back-off, and it is rate-limited per certificate.
/// </summary>
public sealed class PruneTests(ResponderFixture fixture) : IClassFixture<ResponderFixture>
{
    private readonly FakeTimeProvider _time = fixture.Reset();
    private readonly TestOcspResponder _responder = fixture.Responder;

    [Fact]
    public async Task TwentyPrunes_ResponderFailing_HeldStapleServedThroughout_OneUpstreamRequest_ThenRecovers()
    {
        (ProviderHost host, X509Certificate2 leaf, OcspStaple held) = await StapledAsync();
        using (host)
        {
            _responder.Fault = ResponderFault.Http500;
            _responder.ResetCount();
            _time.Advance(TimeSpan.FromMinutes(1));

            var answers = new List<bool>();
            for (int i = 0; i < 20; i++)
            {
                answers.Add(await host.Provider.PruneAsync(leaf));
                Assert.True(host.Provider.TryGetCachedStaple(leaf, out OcspStaple? served), $"prune {i + 1} left nothing to staple");
                Assert.Same(held, served);
            }

            Assert.Equal([true, .. Enumerable.Repeat(false, 19)], answers);
            Assert.Equal(1, _responder.RequestCount);
            Assert.Contains(host.Logs.Entries, e => e.EventId == Log.PruneIgnoredId && e.Message.Contains("failure back-off", StringComparison.Ordinal));

            // The responder recovers: the scheduler's retry after the back-off (1 minute) brings a newer staple.
            _responder.Fault = ResponderFault.None;
            _time.Advance(TimeSpan.FromMinutes(1));
            await host.RunDueAsync(CancellationToken.None);

            Assert.True(host.Provider.TryGetCachedStaple(leaf, out OcspStaple? fresh));
            Assert.True(fresh!.ThisUpdate > held.ThisUpdate);
            Assert.Equal(2, _responder.RequestCount);
        }
    }

    [Fact]
    public async Task Prunes_RateLimitedPerCertificate_OneRefetchPerInterval()
    {
        (ProviderHost host, X509Certificate2 leaf, OcspStaple held) = await StapledAsync();
        X509Certificate2 other = fixture.NewLeaf("prune-other");
        host.Provider.Register(other, fixture.Pki.Intermediate);
        await host.Provider.RefreshAsync(other);
        using (host)
        {
            _responder.ResetCount();
            _time.Advance(TimeSpan.FromSeconds(1)); // a newer thisUpdate to adopt

            int refetched = 0;
            for (int i = 0; i < 100; i++)
            {
                refetched += await host.Provider.PruneAsync(leaf) ? 1 : 0;
            }

            Assert.Equal(1, refetched);
            Assert.Equal(1, _responder.RequestCount);
            Assert.True(host.Provider.TryGetCachedStaple(leaf, out OcspStaple? pruned));
            Assert.True(pruned!.ThisUpdate > held.ThisUpdate);

            // Another certificate has its own allowance; this one's comes back after MinimumPruneInterval (5 minutes).
            Assert.True(await host.Provider.PruneAsync(other));
            _time.Advance(TimeSpan.FromMinutes(4));
            Assert.False(await host.Provider.PruneAsync(leaf));
            _time.Advance(TimeSpan.FromMinutes(1));
            Assert.True(await host.Provider.PruneAsync(leaf));
            Assert.Equal(3, _responder.RequestCount);
            Assert.Contains(host.Logs.Entries, e => e.EventId == Log.PruneIgnoredId && e.Message.Contains("MinimumPruneInterval", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Prune_UnregisteredCertificate_False_NoRequest()
    {
        using var host = new ProviderHost(_time, b => b.UseMemoryOnly());

        Assert.False(await host.Provider.PruneAsync(fixture.NewLeaf("never-registered")));
        Assert.Equal(0, _responder.RequestCount);
    }

    private async Task<(ProviderHost Host, X509Certificate2 Leaf, OcspStaple Held)> StapledAsync()
    {
        X509Certificate2 leaf = fixture.NewLeaf("prune");
        var host = new ProviderHost(_time, b => b.UseMemoryOnly());
        host.Provider.Register(leaf, fixture.Pki.Intermediate);
        OcspStaple held = (await host.Provider.RefreshAsync(leaf)).Response ?? throw new InvalidOperationException("No first staple.");
        return (host, leaf, held);
    }
}
