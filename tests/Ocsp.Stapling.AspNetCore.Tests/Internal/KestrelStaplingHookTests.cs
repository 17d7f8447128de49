using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Ocsp.Stapling.AspNetCore.Internal;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.AspNetCore.Tests.Internal;

public sealed class KestrelStaplingHookTests(KestrelFixture fixture) : IClassFixture<KestrelFixture>
{
    [Fact]
    public async Task GetOrCreate_Unsupported_ServesTlsWithoutStapleAndWarnsOnce()
    {
        FakeTimeProvider time = fixture.Reset();
        var logs = new LogCapture();
        await using ServiceProvider services = Services(time, logs);
        var sut = new KestrelStaplingHook(
            services.GetRequiredService<IOcspCertificateRegistry>(), services.GetRequiredService<IOcspResponseProvider>(), logs.CreateLogger("hook"), "forced off by the test");

        StapledCertificate first = sut.GetOrCreate(fixture.NewLeaf("off-1"), fixture.Chain, atStartup: true);
        StapledCertificate second = sut.GetOrCreate(fixture.NewLeaf("off-2"), fixture.Chain, atStartup: false);

        Assert.False(first.IsHooked);
        Assert.False(second.IsHooked);
        Assert.Single(logs.Entries, e => e.EventId == Log.StaplingUnsupportedId && e.Level == LogLevel.Warning && e.Message.Contains("forced off by the test", StringComparison.Ordinal));
        Assert.Equal(first.Certificate.Thumbprint, await HandshakeAsync(first.Context));
    }

    [Fact]
    public async Task GetOrCreate_SameCertificate_OneContextForEveryInstance()
    {
        FakeTimeProvider time = fixture.Reset();
        await using ServiceProvider services = Services(time, new LogCapture());
        KestrelStaplingHook sut = KestrelStaplingHook.For(services);
        X509Certificate2 leaf = fixture.NewLeaf("one-context");
        using X509Certificate2 copy = X509CertificateLoader.LoadPkcs12(leaf.Export(X509ContentType.Pkcs12), null);

        StapledCertificate a = sut.GetOrCreate(leaf, fixture.Chain, atStartup: true);
        StapledCertificate b = sut.GetOrCreate(copy, fixture.Chain, atStartup: false);

        Assert.Same(a, b);
        Assert.True(a.IsHooked);
        Assert.Same(sut, KestrelStaplingHook.For(services));
        Assert.Single(services.GetRequiredService<IOcspCertificateRegistry>().GetStates());
    }

    [Fact]
    public async Task GetOrCreate_IssuerNowhere_AtStartupThrowsNamingTheIssuer_OnHandshakeLogsAndServesUnstapled()
    {
        FakeTimeProvider time = fixture.Reset();
        var logs = new LogCapture();
        await using ServiceProvider services = Services(time, logs);
        KestrelStaplingHook sut = KestrelStaplingHook.For(services);

        var error = Assert.Throws<InvalidOperationException>(() => sut.GetOrCreate(fixture.NewLeaf("orphan-1"), chain: null, atStartup: true));
        Assert.True(error.Message.Contains("its issuer 'CN=Ocsp.Stapling Test Intermediate, O=Ocsp.Stapling Tests' is neither in the chain given nor in the certificate store", StringComparison.Ordinal), error.Message);

        Assert.Contains("pass the issuing CA certificate", error.Message, StringComparison.Ordinal);

        StapledCertificate lazy = sut.GetOrCreate(fixture.NewLeaf("orphan-2"), chain: null, atStartup: false);
        Assert.False(lazy.IsHooked);
        Assert.Contains(logs.Entries, e => e.EventId == Log.IssuerNotFoundId && e.Level == LogLevel.Error);
        Assert.Empty(services.GetRequiredService<IOcspCertificateRegistry>().GetStates());
    }

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

    private static ServiceProvider Services(FakeTimeProvider time, LogCapture logs)
    {
        var services = new ServiceCollection();
        services.AddLogging(l => l.AddProvider(logs).SetMinimumLevel(LogLevel.Debug));
        services.AddSingleton<TimeProvider>(time);
        services.AddOcspStapling(o => o.Fetch.MaxRetryAttempts = 0).UseMemoryOnly();
        return services.BuildServiceProvider();
    }

    /// <summary>A TLS handshake against <paramref name="context"/> over loopback; the thumbprint the client saw.</summary>
    private static async Task<string> HandshakeAsync(SslStreamCertificateContext context)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        Task<TcpClient> accept = listener.AcceptTcpClientAsync();
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        using TcpClient server = await accept;
        await using var serverTls = new SslStream(server.GetStream());
        await using var clientTls = new SslStream(client.GetStream());
        string? seen = null;
        Task serverSide = serverTls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificateContext = context });
        await clientTls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            {
                seen = certificate?.GetCertHashString();
                return certificate is not null; // Identity is not under test here, only that TLS is served with the certificate.
            },
        });
        await serverSide;
        return seen!;
    }
}
