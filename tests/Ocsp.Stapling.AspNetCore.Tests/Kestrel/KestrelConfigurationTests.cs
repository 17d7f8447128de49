using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Ocsp.Stapling.Testing;
using AspNetCoreLog = Ocsp.Stapling.AspNetCore.Internal.Log;

namespace Ocsp.Stapling.AspNetCore.Tests.Kestrel;

/// <summary>Endpoints from the <c>Kestrel</c> configuration section (appsettings.json), stapled by <c>UseOcspStapling()</c>.</summary>
public sealed class KestrelConfigurationTests(KestrelFixture fixture) : IClassFixture<KestrelFixture>
{
    [SkippableTheory]
    [InlineData("pem")]
    [InlineData("pfx")]
    public async Task ConfiguredEndpoint_ColdStart_HandshakeOneIsStapled(string format)
    {
        Requires.Programs("openssl");
        FakeTimeProvider time = fixture.Reset();
        X509Certificate2 leaf = fixture.NewLeaf("configured-" + format);
        var files = new ServerCertificateFiles(Path.Combine(fixture.Directory, Guid.NewGuid().ToString("N")));
        var configuration = new Dictionary<string, string?> { ["Kestrel:Endpoints:Https:Url"] = "https://127.0.0.1:0" };
        if (format == "pem")
        {
            files.WritePem(leaf, fixture.Pki.Intermediate);
            configuration["Kestrel:Endpoints:Https:Certificate:Path"] = files.FullChain;
            configuration["Kestrel:Endpoints:Https:Certificate:KeyPath"] = files.Key;
        }
        else
        {
            files.WritePfx(leaf, fixture.Pki.Intermediate);
            configuration["Kestrel:Endpoints:Https:Certificate:Path"] = files.Pfx;
            configuration["Kestrel:Endpoints:Https:Certificate:Password"] = ServerCertificateFiles.PfxPassword;
        }

        await using StaplingServer server = await StaplingServer.StartConfiguredAsync(time, fixture.NewCacheDirectory(), configuration);

        await AssertStapledAsync(server, leaf);
        Assert.Equal(1, fixture.Responder.RequestCount);
        Assert.Contains(server.Logs.Entries, e => e.EventId == AspNetCoreLog.ConfiguredEndpointStapledId && e.Message.Contains("'Https'", StringComparison.Ordinal));
    }

    [SkippableFact]
    public async Task DefaultCertificate_FromConfiguration_IsStapled()
    {
        Requires.Programs("openssl");
        FakeTimeProvider time = fixture.Reset();
        X509Certificate2 leaf = fixture.NewLeaf("configured-default");
        var files = new ServerCertificateFiles(Path.Combine(fixture.Directory, Guid.NewGuid().ToString("N"))).WritePem(leaf, fixture.Pki.Intermediate);

        await using StaplingServer server = await StaplingServer.StartConfiguredAsync(time, fixture.NewCacheDirectory(), new Dictionary<string, string?>
        {
            ["Kestrel:Endpoints:Secure:Url"] = "https://127.0.0.1:0",
            ["Kestrel:Certificates:Default:Path"] = files.FullChain,
            ["Kestrel:Certificates:Default:KeyPath"] = files.Key,
        });

        await AssertStapledAsync(server, leaf);
    }

    [SkippableFact]
    public async Task ConfigurationReload_EndpointGetsAnotherCertificate_NewOneStapled_OldOneUnregistered()
    {
        Requires.Programs("openssl");
        FakeTimeProvider time = fixture.Reset();
        X509Certificate2 first = fixture.NewLeaf("reload-first");
        X509Certificate2 second = fixture.NewLeaf("reload-second");
        var firstFiles = new ServerCertificateFiles(Path.Combine(fixture.Directory, Guid.NewGuid().ToString("N"))).WritePem(first, fixture.Pki.Intermediate);
        var secondFiles = new ServerCertificateFiles(Path.Combine(fixture.Directory, Guid.NewGuid().ToString("N"))).WritePem(second, fixture.Pki.Intermediate);
        int port = StaplingServer.FreePort();
        await using StaplingServer server = await StaplingServer.StartConfiguredAsync(time, fixture.NewCacheDirectory(), new Dictionary<string, string?>
        {
            ["Kestrel:Endpoints:Https:Url"] = $"https://127.0.0.1:{port}",
            ["Kestrel:Endpoints:Https:Certificate:Path"] = firstFiles.FullChain,
            ["Kestrel:Endpoints:Https:Certificate:KeyPath"] = firstFiles.Key,
        });
        await AssertStapledAsync(server, first);

        server.Configuration["Kestrel:Endpoints:Https:Certificate:Path"] = secondFiles.FullChain;
        server.Configuration["Kestrel:Endpoints:Https:Certificate:KeyPath"] = secondFiles.Key;
        server.ReloadConfiguration();
        await server.WhenUnregisteredAsync(first);
        await server.WaitUntilAsync(() => server.StapledBytes(second) is not null, "the second certificate's staple");

        await AssertStapledAsync(server, second, retryWhileRebinding: true);
        Assert.Null(server.Registry.GetState(first));
    }

    [SkippableFact]
    public async Task SniSection_IsLeftToKestrel_WithAWarning()
    {
        Requires.Programs("openssl");
        FakeTimeProvider time = fixture.Reset();
        X509Certificate2 leaf = fixture.NewLeaf("configured-sni");
        var files = new ServerCertificateFiles(Path.Combine(fixture.Directory, Guid.NewGuid().ToString("N"))).WritePem(leaf, fixture.Pki.Intermediate);
        string name = leaf.GetNameInfo(X509NameType.DnsName, false);

        await using StaplingServer server = await StaplingServer.StartConfiguredAsync(time, fixture.NewCacheDirectory(), new Dictionary<string, string?>
        {
            ["Kestrel:Endpoints:Https:Url"] = "https://127.0.0.1:0",
            [$"Kestrel:Endpoints:Https:Sni:{name}:Certificate:Path"] = files.FullChain,
            [$"Kestrel:Endpoints:Https:Sni:{name}:Certificate:KeyPath"] = files.Key,
        });

        Assert.Contains(server.Logs.Entries, e => e.EventId == AspNetCoreLog.ConfiguredEndpointNotStapledId && e.Level == LogLevel.Warning && e.Message.Contains("Sni", StringComparison.Ordinal));
        Assert.Null(server.Registry.GetState(leaf));
        Assert.Null((await TlsClients.OpenSslStatusAsync(server.Port, name, fixture.RootFile, "-tls1_3")).Ocsp);
    }

    private async Task AssertStapledAsync(StaplingServer server, X509Certificate2 leaf, bool retryWhileRebinding = false)
    {
        string? ocsp = retryWhileRebinding
            ? await KestrelRebinding.OpenSslStatusAsync(server.Port, leaf, fixture.RootFile)
            : (await TlsClients.OpenSslStatusAsync(server.Port, leaf.GetNameInfo(X509NameType.DnsName, false), fixture.RootFile, "-tls1_3")).Ocsp;
        Assert.NotNull(ocsp);
        Assert.Contains("Cert Status: good", ocsp, StringComparison.Ordinal);
        Assert.Contains("Serial Number: " + TestPki.OpenSslSerial(leaf), ocsp, StringComparison.Ordinal);
    }
}
