using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Ocsp.Stapling.Internal;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.AspNetCore.Tests.Kestrel;

/// <summary>An empty cache on start: the endpoint listens once each certificate's first fetch has answered, or after the bound.</summary>
public sealed class KestrelColdStartTests(KestrelFixture fixture) : IClassFixture<KestrelFixture>
{
    [SkippableTheory]
    [InlineData("-tls1_2")]
    [InlineData("-tls1_3")]
    public async Task ColdStart_ResponderUp_HandshakeOneIsStapled(string tlsVersion)
    {
        Requires.Programs("openssl");
        FakeTimeProvider time = fixture.Reset();
        X509Certificate2 leaf = fixture.NewLeaf("cold");

        // No waiting after start: when StartAsync returns, the server listens, and the context must already carry the staple.
        await using StaplingServer server = await StaplingServer.StartAsync(time, fixture.NewCacheDirectory(), l => l.UseHttpsWithOcspStapling(leaf, fixture.Chain));
        Assert.NotNull(server.StapledBytes(leaf));

        (string? ocsp, _) = await TlsClients.OpenSslStatusAsync(server.Port, leaf.GetNameInfo(X509NameType.DnsName, false), fixture.RootFile, tlsVersion);

        Assert.NotNull(ocsp);
        Assert.Contains("Cert Status: good", ocsp, StringComparison.Ordinal);
        Assert.Contains("Serial Number: " + TestPki.OpenSslSerial(leaf), ocsp, StringComparison.Ordinal);
        Assert.Equal(1, fixture.Responder.RequestCount);
        Assert.Contains(server.Logs.Entries, e => e.EventId == Log.StartupPreparedId && e.Message.Contains("1 of 1 certificate(s) stapled", StringComparison.Ordinal));
    }

    [SkippableFact]
    public async Task ColdStart_ResponderHangs_StartCompletesAtTheBound_UnstapledAndLogged_ThenStapledWhenItAnswers()
    {
        Requires.Programs("openssl");
        FakeTimeProvider time = fixture.Reset();
        fixture.Responder.Fault = ResponderFault.Slow;
        X509Certificate2 leaf = fixture.NewLeaf("cold-hang");
        TimeSpan bound = TimeSpan.FromSeconds(5);

        Task<StaplingServer> starting = StaplingServer.StartAsync(
            time, fixture.NewCacheDirectory(), l => l.UseHttpsWithOcspStapling(leaf, fixture.Chain), o => o.Tls.StartupFetchTimeout = bound);
        await fixture.Responder.WhenRequestCountAsync(1).WaitAsync(TimeSpan.FromSeconds(30));
        await time.WhenTimerDueAtAsync(time.GetUtcNow() + bound).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(starting.IsCompleted);

        time.Advance(bound);
        await using StaplingServer server = await starting.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Null(server.StapledBytes(leaf));
        Assert.Contains(server.Logs.Entries, e => e.EventId == Log.FirstAnswerTimedOutId && e.Level == LogLevel.Warning && e.Message.Contains(leaf.SerialNumber, StringComparison.OrdinalIgnoreCase));
        Assert.Contains(server.Logs.Entries, e => e.EventId == Log.StartupPreparedId && e.Message.Contains("0 of 1", StringComparison.Ordinal));
        Assert.Null((await TlsClients.OpenSslStatusAsync(server.Port, leaf.GetNameInfo(X509NameType.DnsName, false), fixture.RootFile, "-tls1_3")).Ocsp);

        // The responder answers late: the fetch that start-up stopped waiting for still lands, and is stapled from then on.
        fixture.Responder.Fault = ResponderFault.None;
        fixture.Responder.ReleaseSlowRequests();
        await server.WaitUntilAsync(() => server.StapledBytes(leaf) is not null, "the late staple");
        Assert.Contains("Cert Status: good", (await TlsClients.OpenSslStatusAsync(server.Port, leaf.GetNameInfo(X509NameType.DnsName, false), fixture.RootFile, "-tls1_3")).Ocsp, StringComparison.Ordinal);
    }

    /// <summary>
    /// A responder that fails (HTTP 500) or refuses the connection (nothing listens on its port) ends the wait at once:
    /// the fetch failure is logged (event 2), not the bound (event 109), as docs/kestrel.md says.
    /// </summary>
    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ColdStart_ResponderFailingOrRefusing_StartsAtTheFirstAnswer_WithoutWaitingForTheBound(bool refused)
    {
        Requires.Programs("openssl");
        FakeTimeProvider time = fixture.Reset();
        fixture.Responder.Fault = ResponderFault.Http500;
        X509Certificate2 leaf = fixture.NewLeaf(refused ? "cold-refused" : "cold-fail");
        int closedPort = StaplingServer.FreePort(); // bound and released: nothing listens there

        // The clock never moves: start-up can only complete because the failed answer ended the wait.
        await using StaplingServer server = await StaplingServer.StartAsync(
            time,
            fixture.NewCacheDirectory(),
            l => l.UseHttpsWithOcspStapling(leaf, fixture.Chain),
            o =>
            {
                if (refused)
                {
                    o.Fetch.ResponderOverrides[leaf.Thumbprint] = $"http://127.0.0.1:{closedPort}/ocsp";
                }
            }).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Null(server.StapledBytes(leaf));
        Assert.Equal(refused ? 0 : 1, fixture.Responder.RequestCount);
        Assert.DoesNotContain(server.Logs.Entries, e => e.EventId == Log.FirstAnswerTimedOutId);
        Assert.Contains(server.Logs.Entries, e => e.EventId == Log.FetchFailedId);
        Assert.Contains(server.Logs.Entries, e => e.EventId == Log.StartupPreparedId && e.Message.Contains("0 of 1", StringComparison.Ordinal));
    }

    /// <summary>
    /// The start-up log says what happens and nothing else: where staples are kept, each certificate's staple and where
    /// it came from (the responder on a cold start, the shared store after a restart), and no empty summaries.
    /// </summary>
    [Fact]
    public async Task StartUpLog_SaysWhereStaplesAreKept_AndForEachCertificateWhereItsStapleCameFrom()
    {
        FakeTimeProvider time = fixture.Reset();
        X509Certificate2 leaf = fixture.NewLeaf("startup-log");
        string store = fixture.NewCacheDirectory();
        string name = CertificateNames.DisplayName(leaf);

        string[] cold;
        await using (StaplingServer server = await StaplingServer.StartAsync(time, store, l => l.UseHttpsWithOcspStapling(leaf, fixture.Chain)))
        {
            cold = [.. server.Logs.Entries.Select(e => e.Message)];
        }

        fixture.Responder.Fault = ResponderFault.Down;
        string[] warm;
        await using (StaplingServer server = await StaplingServer.StartAsync(time, store, l => l.UseHttpsWithOcspStapling(leaf, fixture.Chain)))
        {
            warm = [.. server.Logs.Entries.Select(e => e.Message)];
        }

        Assert.Contains(cold, m => m == "OCSP staples are kept in memory and in the shared store: files in " + Path.GetFullPath(store));
        Assert.Contains(cold, m => m.StartsWith($"OCSP staple for {name} at start-up: Good from Responder, nextUpdate ", StringComparison.Ordinal));
        Assert.Contains(warm, m => m.StartsWith($"OCSP staple for {name} at start-up: Good from SharedStore, nextUpdate ", StringComparison.Ordinal));
        Assert.DoesNotContain(cold.Concat(warm), m => m.Contains("0 more certificate", StringComparison.Ordinal) || m.Contains("being fetched", StringComparison.Ordinal));
        Assert.DoesNotContain(cold, m => m.StartsWith("Start processing HTTP request", StringComparison.Ordinal) || m.StartsWith("Sending HTTP request", StringComparison.Ordinal));
    }
}
