using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging.Abstractions;
using Ocsp.Stapling.AspNetCore.Internal;
using Ocsp.Stapling.Internal;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.AspNetCore.Tests.HealthChecks;

public sealed class OcspStaplingHealthCheckTests(KestrelFixture fixture) : IClassFixture<KestrelFixture>
{
    [Fact]
    public async Task Check_ValidStaple_HealthyWithAgeAndTimeToNextUpdate()
    {
        FakeTimeProvider time = fixture.Reset();
        X509Certificate2 leaf = fixture.NewLeaf("health-ok");
        await using StaplingServer server = await StartAsync(time, leaf);
        time.Advance(TimeSpan.FromHours(3));

        HealthReportEntry entry = await CheckAsync(server);

        Assert.Equal(HealthStatus.Healthy, entry.Status);
        Assert.Equal("on", entry.Data["tls-stapling"]);
        Assert.Equal("Good, age 3h0m, nextUpdate in 3d21h", ((string)entry.Data[Name(leaf)])[..35]);
    }

    [Fact]
    public async Task Check_StapleCloseToExpiryWhileResponderFails_DegradedWithLastFailure()
    {
        FakeTimeProvider time = fixture.Reset();
        X509Certificate2 leaf = fixture.NewLeaf("health-late");
        await using StaplingServer server = await StartAsync(time, leaf);
        Assert.True(server.Provider.TryGetCachedStaple(leaf, out OcspStaple? staple));
        fixture.Responder.Fault = ResponderFault.Http500;

        time.SetUtcNow(staple.NextUpdate - TimeSpan.FromHours(12));
        await server.WaitUntilAsync(() => server.Registry.GetStates()[0].LastFailure is not null, "a failed refresh");
        HealthReportEntry entry = await CheckAsync(server);

        Assert.Equal(HealthStatus.Degraded, entry.Status);
        string summary = (string)entry.Data[Name(leaf)];
        Assert.StartsWith("expiring soon: Good", summary, StringComparison.Ordinal);
        Assert.Contains("last failure HttpStatus", summary, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_MustStapleWithoutStaple_Unhealthy()
    {
        FakeTimeProvider time = fixture.Reset();
        fixture.Responder.Fault = ResponderFault.Garbage;
        X509Certificate2 leaf = fixture.NewLeaf("health-must", mustStaple: true);
        await using StaplingServer server = await StartAsync(time, leaf, waitForStaple: false);
        await server.WaitUntilAsync(() => server.Registry.GetStates()[0].LastFailure is not null, "the failed first fetch");

        HealthReportEntry entry = await CheckAsync(server);

        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.StartsWith("MUST-STAPLE certificate without a valid staple; last failure InvalidResponse/MalformedResponse", (string)entry.Data[Name(leaf)], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_Revoked_Unhealthy()
    {
        FakeTimeProvider time = fixture.Reset();
        X509Certificate2 leaf = fixture.NewLeaf("health-revoked");
        fixture.Responder.Revoke(leaf, time.GetUtcNow().AddDays(-1), OcspRevocationReason.KeyCompromise);
        await using StaplingServer server = await StartAsync(time, leaf, waitForStaple: false);
        await server.WaitUntilAsync(() => server.Registry.GetStates()[0].Staple is not null, "the revoked response");

        HealthReportEntry entry = await CheckAsync(server);

        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.StartsWith("REVOKED: Revoked", (string)entry.Data[Name(leaf)], StringComparison.Ordinal);
        Assert.Null(server.StapledBytes(leaf)); // and not stapled (StapleRevoked is off by default)
    }

    [Fact]
    public async Task Check_CertificateWithoutResponder_Healthy()
    {
        FakeTimeProvider time = fixture.Reset();
        X509Certificate2 leaf = fixture.NewLeaf("health-no-ocsp", withOcspUrl: false);
        await using StaplingServer server = await StartAsync(time, leaf, waitForStaple: false);

        HealthReportEntry entry = await CheckAsync(server);

        Assert.Equal(HealthStatus.Healthy, entry.Status);
        Assert.Equal("no OCSP responder: served without a staple", entry.Data[Name(leaf)]);
    }

    [Theory]
    [InlineData(false, HealthStatus.Degraded)]
    [InlineData(true, HealthStatus.Unhealthy)]
    public async Task Check_TlsStaplingOff_DegradedOrUnhealthyWithMustStaple(bool mustStaple, HealthStatus expected)
    {
        FakeTimeProvider time = fixture.Reset();
        X509Certificate2 leaf = fixture.NewLeaf("health-off", mustStaple: mustStaple);
        await using StaplingServer server = await StartAsync(time, leaf);
        using var off = new OcspStaplingContexts(server.Registry, server.Provider, NullLogger.Instance, new NotStapling(OcspNotStaplingReason.UnsupportedRuntime, "forced off by the test"));
        off.GetOrCreate(fixture.NewLeaf("health-off-context", mustStaple: mustStaple), fixture.Chain);
        var sut = new OcspStaplingHealthCheck(server.Registry, new OcspStaplingHealthCheckOptions(), time, off);

        HealthCheckResult result = await sut.CheckHealthAsync(new HealthCheckContext());

        Assert.Equal(expected, result.Status);
        Assert.Equal("off: forced off by the test", result.Data["tls-stapling"]);
        Assert.Contains("TLS stapling is off: forced off by the test", result.Description, StringComparison.Ordinal);
    }

    private static string Name(X509Certificate2 certificate) => CertificateNames.DisplayName(certificate);

    private async Task<StaplingServer> StartAsync(FakeTimeProvider time, X509Certificate2 leaf, bool waitForStaple = true)
    {
        static void HealthChecks(IServiceCollection services) => services.AddHealthChecks().AddOcspStapling();
        return waitForStaple
            ? await StaplingServer.StartStapledAsync(time, fixture.NewCacheDirectory(), leaf, fixture.Chain, HealthChecks)
            : await StaplingServer.StartAsync(time, fixture.NewCacheDirectory(), l => l.UseHttpsWithOcspStapling(leaf, fixture.Chain), services: HealthChecks);
    }

    private static async Task<HealthReportEntry> CheckAsync(StaplingServer server)
    {
        HealthReport report = await server.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        return report.Entries["ocsp-stapling"];
    }
}
