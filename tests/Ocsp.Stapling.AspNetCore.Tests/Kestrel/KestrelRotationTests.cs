using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Ocsp.Stapling.Internal;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.AspNetCore.Tests.Kestrel;

/// <summary>Certificate files renewed in place while Kestrel runs (ACME): the new certificate is served once stapled.</summary>
public sealed class KestrelRotationTests(KestrelFixture fixture) : IClassFixture<KestrelFixture>
{
    [SkippableFact]
    public async Task PemFilesReplaced_NewSerialServed_ItsFirstHandshakeStapled_OldUnregistered()
    {
        Requires.Programs("openssl");
        FakeTimeProvider time = fixture.Reset();
        X509Certificate2 old = fixture.NewLeaf("rotate-old");
        X509Certificate2 renewed = fixture.NewLeaf("rotate-new");
        var files = new ServerCertificateFiles(Path.Combine(fixture.Directory, Guid.NewGuid().ToString("N"))).WritePem(old, fixture.Pki.Intermediate);
        await using StaplingServer server = await StaplingServer.StartAsync(
            time, fixture.NewCacheDirectory(), l => l.UseHttpsWithOcspStaplingFromPem(files.FullChain, files.Key), o => o.Tls.CertificateReloadDelay = TimeSpan.Zero);
        await AssertServesAsync(server, old);

        // What certbot does: the new files land one after the other; the watcher sees them without being told.
        files.WritePem(renewed, fixture.Pki.Intermediate);
        await server.WhenUnregisteredAsync(old);

        // Served only once prepared: the very first handshake of the new certificate carries its own good staple.
        await AssertServesAsync(server, renewed);
        Assert.Null(server.Registry.GetState(old));
        Assert.Equal(2, fixture.Responder.RequestCount);
        Assert.Contains(server.Logs.Entries, e => e.EventId == Log.CertificateRotatedId && e.Message.Contains(renewed.SerialNumber, StringComparison.OrdinalIgnoreCase));
    }

    [SkippableFact]
    public async Task PfxReplaced_NewSerialServedStapled()
    {
        Requires.Programs("openssl");
        FakeTimeProvider time = fixture.Reset();
        X509Certificate2 old = fixture.NewLeaf("rotate-pfx-old");
        X509Certificate2 renewed = fixture.NewLeaf("rotate-pfx-new");
        var files = new ServerCertificateFiles(Path.Combine(fixture.Directory, Guid.NewGuid().ToString("N"))).WritePfx(old, fixture.Pki.Intermediate);
        await using StaplingServer server = await StaplingServer.StartAsync(
            time, fixture.NewCacheDirectory(), l => l.UseHttpsWithOcspStapling(files.Pfx, ServerCertificateFiles.PfxPassword), o => o.Tls.CertificateReloadDelay = TimeSpan.Zero);
        await AssertServesAsync(server, old);

        files.WritePfx(renewed, fixture.Pki.Intermediate);
        await server.WhenUnregisteredAsync(old);

        await AssertServesAsync(server, renewed);
    }

    [SkippableFact]
    public async Task KeyNotMatchingTheCertificate_KeepsTheOldServing_AndLogsWhy_UntilTheKeyLands()
    {
        Requires.Programs("openssl");
        FakeTimeProvider time = fixture.Reset();
        X509Certificate2 old = fixture.NewLeaf("mismatch-old");
        X509Certificate2 renewed = fixture.NewLeaf("mismatch-new");
        var files = new ServerCertificateFiles(Path.Combine(fixture.Directory, Guid.NewGuid().ToString("N"))).WritePem(old, fixture.Pki.Intermediate);
        await using StaplingServer server = await StaplingServer.StartAsync(
            time, fixture.NewCacheDirectory(), l => l.UseHttpsWithOcspStaplingFromPem(files.FullChain, files.Key), o => o.Tls.CertificateReloadDelay = TimeSpan.Zero);
        OcspCertificateFileSource source = Assert.Single(SourcesOf(server));

        // The certificate lands, its key not yet: the pair does not match.
        files.WriteCertificate(renewed, fixture.Pki.Intermediate);
        Assert.False(await source.ReloadAsync());
        Assert.Contains("does not match", source.LastError, StringComparison.OrdinalIgnoreCase);
        Assert.Contains(server.Logs.Entries, e => e.EventId == Log.CertificateReloadFailedId && e.Level == LogLevel.Warning && e.Message.Contains(old.SerialNumber, StringComparison.OrdinalIgnoreCase));
        await AssertServesAsync(server, old);
        Assert.NotNull(server.Registry.GetState(old));

        // The key follows: now it rotates.
        files.WriteKey(renewed);
        await server.WhenUnregisteredAsync(old);
        await AssertServesAsync(server, renewed);
        Assert.Null(source.LastError);
    }

    [SkippableFact]
    public async Task UnreadableFiles_KeepTheOldServing()
    {
        Requires.Programs("openssl");
        FakeTimeProvider time = fixture.Reset();
        X509Certificate2 old = fixture.NewLeaf("garbled-old");
        var files = new ServerCertificateFiles(Path.Combine(fixture.Directory, Guid.NewGuid().ToString("N"))).WritePem(old, fixture.Pki.Intermediate);
        await using StaplingServer server = await StaplingServer.StartAsync(
            time, fixture.NewCacheDirectory(), l => l.UseHttpsWithOcspStaplingFromPem(files.FullChain, files.Key), o => o.Tls.CertificateReloadDelay = TimeSpan.Zero);
        OcspCertificateFileSource source = Assert.Single(SourcesOf(server));

        File.WriteAllText(files.FullChain, "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");
        Assert.False(await source.ReloadAsync());
        File.Delete(files.Key);
        Assert.False(await source.ReloadAsync());

        Assert.Contains(files.Key, source.LastError, StringComparison.Ordinal);
        Assert.Equal(old.RawData, source.Current.Certificate.RawData);
        await AssertServesAsync(server, old);
    }

    private static IEnumerable<OcspCertificateFileSource> SourcesOf(StaplingServer server) => server.Contexts.Sources;

    private async Task AssertServesAsync(StaplingServer server, X509Certificate2 leaf)
    {
        (string? ocsp, string output) = await TlsClients.OpenSslStatusAsync(server.Port, leaf.GetNameInfo(X509NameType.DnsName, false), fixture.RootFile, "-tls1_3");
        Assert.Contains(output.Split('\n'), line => line.StartsWith("subject=", StringComparison.Ordinal) && line.Contains(leaf.GetNameInfo(X509NameType.DnsName, false), StringComparison.Ordinal));
        Assert.NotNull(ocsp);
        Assert.Contains("Cert Status: good", ocsp, StringComparison.Ordinal);
        Assert.Contains("Serial Number: " + TestPki.OpenSslSerial(leaf), ocsp, StringComparison.Ordinal);
    }
}
