using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Ocsp.Stapling.Internal;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tests.Scheduling;

/// <summary>The real background loop, driven by the fake clock; waits on notifications, never on wall-clock time.</summary>
public sealed class OcspRefreshServiceTests(ResponderFixture fixture) : IClassFixture<ResponderFixture>
{
    private readonly FakeTimeProvider _time = fixture.Reset();
    private readonly TestPki _pki = fixture.Pki;

    [Fact]
    public async Task StartUp_WarmSharedStore_200Certificates_AllStapledBeforeStartReturns_NoUpstreamRequest_RefreshesSpread()
    {
        const int Count = 200;
        X509Certificate2[] leaves = SyntheticCertificates.Clone(fixture.NewLeaf("warm-start"), Count);
        string store = Directory.CreateTempSubdirectory("ocsp-warm-start-").FullName; // the file store expires entries on the fake clock
        using (var filler = new ProviderHost(_time, b => b.UseFileSystemCache(store), o => o.Fetch.MaxRequestsPerSecondPerHost = 100_000))
        {
            filler.Provider.RegisterAll([.. leaves.Select(l => (l, _pki.Intermediate))]);
            await filler.RunDueAsync(CancellationToken.None); // one fleet node fetched them all, together
        }

        Assert.Equal(Count, fixture.Responder.RequestCount);
        fixture.Responder.ResetCount();
        using var host = new ProviderHost(_time, b =>
        {
            b.UseFileSystemCache(store);
            foreach (X509Certificate2 leaf in leaves)
            {
                b.AddCertificate(leaf, _pki.Intermediate);
            }
        });
        OcspRefreshService service = await StartAsync(host);
        try
        {
            Assert.All(leaves, leaf => Assert.True(host.Provider.TryGetCachedStaple(leaf, out _)));
            Assert.Equal(0, fixture.Responder.RequestCount);

            // Fetched together, not refreshed together: spread between now and the half-life point (2 days).
            DateTimeOffset now = _time.GetUtcNow();
            DateTimeOffset[] next = [.. host.Provider.GetStates().Select(s => s.NextRefresh!.Value)];
            Assert.All(next, n => Assert.InRange(n, now, now + TimeSpan.FromDays(2)));
            Assert.InRange(next.Count(n => n < now + TimeSpan.FromDays(1)), Count / 2 - 50, Count / 2 + 50); // 7 standard deviations
            Assert.True(next.Distinct().Count() > Count * 9 / 10);
        }
        finally
        {
            await service.StopAsync(CancellationToken.None);
            Directory.Delete(store, recursive: true);
        }
    }

    [Fact]
    public async Task HostedScheduler_FetchesEagerlyRefreshesWhenDueAndPicksUpRuntimeRegistrations()
    {
        using var host = new ProviderHost(_time, b => b.UseMemoryOnly().AddCertificate(_pki.Leaf, _pki.Intermediate));
        var updates = new System.Collections.Concurrent.BlockingCollection<OcspStapleUpdatedEventArgs>();
        host.Provider.StapleUpdated += (_, e) => updates.Add(e);
        OcspRefreshService scheduler = await StartAsync(host);
        try
        {
            OcspStapleUpdatedEventArgs first = await TakeAsync(updates);
            Assert.Equal(OcspStapleSource.Responder, first.Source);
            Assert.True(host.Provider.TryGetCachedStaple(_pki.Leaf, out _));

            // Half-life of a 4-day response: the loop wakes on its fake-clock timer and refreshes.
            await _time.WhenActiveTimersAsync(2).WaitAsync(TimeSpan.FromSeconds(30)); // the staple's expiry timer and the loop's delay
            _time.Advance(TimeSpan.FromDays(2));
            OcspStapleUpdatedEventArgs second = await TakeAsync(updates);
            Assert.True(second.Staple!.ThisUpdate > first.Staple!.ThisUpdate);

            X509Certificate2Wrapper rotated = new(_pki.IssueLeaf("rotated.test", fixture.Responder.Url));
            host.Provider.Register(rotated.Certificate, _pki.Intermediate);
            OcspStapleUpdatedEventArgs third = await TakeAsync(updates);
            Assert.Equal(rotated.Certificate.RawData, third.Certificate.RawData);
        }
        finally
        {
            await scheduler.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>Starts the provider's hosted services as the host does, in order: the configured certificates, then the refresh loop.</summary>
    private static async Task<OcspRefreshService> StartAsync(ProviderHost host)
    {
        IHostedService[] services = [.. host.Services.GetServices<IHostedService>()];
        await Assert.Single(services.OfType<OcspStartupCertificates>()).StartAsync(CancellationToken.None);
        OcspRefreshService scheduler = Assert.Single(services.OfType<OcspRefreshService>());
        await scheduler.StartAsync(CancellationToken.None);
        return scheduler;
    }

    private static async Task<T> TakeAsync<T>(System.Collections.Concurrent.BlockingCollection<T> queue) =>
        await Task.Run(() => queue.TryTake(out T? item, TimeSpan.FromSeconds(30)) ? item! : throw new TimeoutException("No notification within 30 s."));

    private sealed record X509Certificate2Wrapper(System.Security.Cryptography.X509Certificates.X509Certificate2 Certificate);
}
