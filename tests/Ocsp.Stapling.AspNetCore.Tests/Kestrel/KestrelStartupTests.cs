using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Ocsp.Stapling.Internal;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.AspNetCore.Tests.Kestrel;

public sealed class KestrelStartupTests(KestrelFixture fixture) : IClassFixture<KestrelFixture>
{
    [Fact]
    public async Task Start_MustStapleWithoutStaple_LogsErrorOrRefusesToStartWhenRequired()
    {
        FakeTimeProvider time = fixture.Reset();
        fixture.Responder.Fault = ResponderFault.Http500;
        X509Certificate2 mustStaple = fixture.NewLeaf("must", mustStaple: true);

        await using (StaplingServer lenient = await StaplingServer.StartAsync(time, fixture.NewCacheDirectory(), l => l.UseHttpsWithOcspStapling(mustStaple, fixture.Chain)))
        {
            Assert.Contains(lenient.Logs.Entries, e => e.EventId == Log.MustStapleWithoutStapleId && e.Level == LogLevel.Error);
        }

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => StaplingServer.StartAsync(
            time, fixture.NewCacheDirectory(), l => l.UseHttpsWithOcspStapling(mustStaple, fixture.Chain, o => o.RequireStapleForMustStaple = true)));
        Assert.Contains("refusing to start", refused.Message, StringComparison.Ordinal);

        fixture.Responder.Fault = ResponderFault.None;
        await using StaplingServer strict = await StaplingServer.StartAsync(
            time, fixture.NewCacheDirectory(), l => l.UseHttpsWithOcspStapling(mustStaple, fixture.Chain, o => o.RequireStapleForMustStaple = true));
        Assert.NotNull(strict.StapledBytes(mustStaple));
    }

    [Fact]
    public async Task Start_IssuerNowhere_RefusesToStartNamingTheIssuer()
    {
        FakeTimeProvider time = fixture.Reset();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => StaplingServer.StartAsync(
            time, fixture.NewCacheDirectory(), l => l.UseHttpsWithOcspStapling(fixture.NewLeaf("orphan"), chain: null)));

        Assert.Contains("its issuer 'CN=Ocsp.Stapling Test Intermediate, O=Ocsp.Stapling Tests' is neither in the chain given nor in the certificate store", error.Message, StringComparison.Ordinal);
        Assert.Contains("a fullchain.pem holding the certificate followed by the intermediate", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UseHttpsWithOcspStapling_WithoutAddOcspStapling_SaysWhatToCall()
    {
        var builder = Microsoft.AspNetCore.Builder.WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        X509Certificate2 leaf = fixture.NewLeaf("no-provider");
        Microsoft.AspNetCore.Hosting.WebHostBuilderKestrelExtensions.ConfigureKestrel(
            builder.WebHost, k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttpsWithOcspStapling(leaf, fixture.Chain)));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await using var app = builder.Build();
            await app.StartAsync();
        });
        Assert.Contains("services.AddOcspStapling()", error.Message, StringComparison.Ordinal);
    }
}
