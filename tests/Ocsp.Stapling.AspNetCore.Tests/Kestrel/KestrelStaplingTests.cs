using System.Security.Cryptography.X509Certificates;
using Ocsp.Stapling.Internal;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.AspNetCore.Tests.Kestrel;

public sealed class KestrelStaplingTests(KestrelFixture fixture) : IClassFixture<KestrelFixture>
{
    [SkippableTheory]
    [InlineData("-tls1_2")]
    [InlineData("-tls1_3")]
    public async Task FirstHandshake_OpenSsl_StaplesExactlyTheProvidersStaple(string tlsVersion)
    {
        Requires.Programs("openssl");
        FakeTimeProvider time = fixture.Reset();
        X509Certificate2 leaf = fixture.NewLeaf("first");
        string cache = fixture.NewCacheDirectory();

        // A staple in the shared cache before the server starts: the first handshake must carry it.
        await using (await StaplingServer.StartStapledAsync(time, cache, leaf, fixture.Chain))
        {
        }

        await using StaplingServer server = await StaplingServer.StartAsync(time, cache, l => l.UseHttpsWithOcspStapling(leaf, fixture.Chain));
        Assert.True(server.Provider.TryGetCachedStaple(leaf, out OcspStaple? staple));

        (string? ocsp, _) = await TlsClients.OpenSslStatusAsync(server.Port, leaf.GetNameInfo(X509NameType.DnsName, false), fixture.RootFile, tlsVersion);

        Assert.NotNull(ocsp);
        Assert.Contains("OCSP Response Status: successful", ocsp, StringComparison.Ordinal);
        Assert.Contains("Cert Status: good", ocsp, StringComparison.Ordinal);
        Assert.Equal(await TlsClients.OpenSslResponseTextAsync(staple.Encoded.ToArray(), fixture.Directory), ocsp);
        Assert.Equal(staple.Encoded.ToArray(), server.StapledBytes(leaf));
        Assert.Equal(1, fixture.Responder.RequestCount);
    }

    [SkippableFact]
    public async Task ProviderUpdate_AppearsInNextHandshakes_WithoutRestart_AndRuntimeNeverFetches()
    {
        Requires.Programs("openssl");
        FakeTimeProvider time = fixture.Reset();
        X509Certificate2 leaf = fixture.NewLeaf("update");
        await using StaplingServer server = await StaplingServer.StartStapledAsync(time, fixture.NewCacheDirectory(), leaf, fixture.Chain);
        Assert.True(server.Provider.TryGetCachedStaple(leaf, out OcspStaple? first));
        string firstText = (await OpenSslStatus(server, leaf)).Ocsp!;

        // Half-life of the 4-day responses: the scheduler refreshes, the hook swaps the bytes in the live context.
        time.Advance(TimeSpan.FromDays(2) + TimeSpan.FromMinutes(1));
        await server.WaitUntilAsync(
            () => server.Provider.TryGetCachedStaple(leaf, out OcspStaple? s) && s.ProducedAt > first.ProducedAt && server.StapledBytes(leaf) is { } b && b.AsSpan().SequenceEqual(s.Encoded.Span),
            "refreshed staple in the context");
        Assert.True(server.Provider.TryGetCachedStaple(leaf, out OcspStaple? second));

        for (int i = 0; i < 3; i++)
        {
            string? text = (await OpenSslStatus(server, leaf)).Ocsp;
            Assert.Equal(await TlsClients.OpenSslResponseTextAsync(second.Encoded.ToArray(), fixture.Directory), text);
            Assert.NotEqual(firstText, text);
        }

        // Two fetches, both the provider's: handshakes never made the runtime ask the responder.
        Assert.Equal(2, fixture.Responder.RequestCount);
    }

    [SkippableFact]
    public async Task Restart_WithResponderDown_FirstHandshakeStaplesThePersistedResponse()
    {
        Requires.Programs("openssl");
        FakeTimeProvider time = fixture.Reset();
        X509Certificate2 leaf = fixture.NewLeaf("restart");
        string cache = fixture.NewCacheDirectory();
        byte[] persisted;
        await using (StaplingServer before = await StaplingServer.StartStapledAsync(time, cache, leaf, fixture.Chain))
        {
            persisted = before.StapledBytes(leaf)!;
        }

        fixture.Responder.Fault = ResponderFault.Down;
        time.Advance(TimeSpan.FromHours(20));

        // The restarted process gets a new certificate instance from disk, as a real restart would.
        using X509Certificate2 reloaded = X509CertificateLoader.LoadPkcs12(leaf.Export(X509ContentType.Pkcs12), null);
        await using StaplingServer after = await StaplingServer.StartAsync(time, cache, l => l.UseHttpsWithOcspStapling(reloaded, fixture.Chain));
        (string? ocsp, _) = await OpenSslStatus(after, reloaded);

        Assert.Equal(await TlsClients.OpenSslResponseTextAsync(persisted, fixture.Directory), ocsp);
        Assert.Equal(persisted, after.StapledBytes(reloaded));
        Assert.Equal(1, fixture.Responder.RequestCount);
    }

    [SkippableFact]
    public async Task NewServer_SameCertificate_StaplesItsOwnContextsBytes()
    {
        // Guards the "one context per certificate" design: a second server for a certificate that has handshaken before
        // in this process must staple what its own provider holds, not what the first context held.
        Requires.Programs("openssl");
        FakeTimeProvider time = fixture.Reset();
        X509Certificate2 leaf = fixture.NewLeaf("second-server");
        byte[] first;
        await using (StaplingServer one = await StaplingServer.StartStapledAsync(time, fixture.NewCacheDirectory(), leaf, fixture.Chain))
        {
            first = one.StapledBytes(leaf)!;
            await OpenSslStatus(one, leaf);
        }

        time.Advance(TimeSpan.FromHours(1));
        await using StaplingServer two = await StaplingServer.StartStapledAsync(time, fixture.NewCacheDirectory(), leaf, fixture.Chain);
        byte[] second = two.StapledBytes(leaf)!;
        Assert.NotEqual(first, second);

        (string? ocsp, _) = await OpenSslStatus(two, leaf);
        Assert.Equal(await TlsClients.OpenSslResponseTextAsync(second, fixture.Directory), ocsp);
    }

    [SkippableFact]
    public async Task Sni_EachCertificateGetsItsOwnStaple_AndOneWithoutOcspUrlIsServedWithoutStapleOrError()
    {
        Requires.Programs("openssl");
        FakeTimeProvider time = fixture.Reset();
        X509Certificate2 a = fixture.NewLeaf("sni-a");
        X509Certificate2 b = fixture.NewLeaf("sni-b");
        X509Certificate2 none = fixture.NewLeaf("sni-no-ocsp", withOcspUrl: false);
        X509Certificate2 late = fixture.NewLeaf("sni-late");
        X509Certificate2[] all = [a, b, none, late];
        X509Certificate2? Select(string? host) => all.FirstOrDefault(c => c.GetNameInfo(X509NameType.DnsName, false) == host);

        await using StaplingServer server = await StaplingServer.StartAsync(time, fixture.NewCacheDirectory(), l => l.UseHttpsWithOcspStapling(
            (_, host) => Select(host),
            o =>
            {
                o.ServerCertificateChain = fixture.Chain;
                o.SelectableCertificates.AddRange(new[] { a, b, none });
            }));
        await server.WaitUntilAsync(() => server.StapledBytes(a) is not null && server.StapledBytes(b) is not null, "staples for a and b");

        foreach (X509Certificate2 certificate in new[] { a, b })
        {
            Assert.True(server.Provider.TryGetCachedStaple(certificate, out OcspStaple? staple));
            (string? ocsp, string output) = await OpenSslStatus(server, certificate);
            Assert.Equal(await TlsClients.OpenSslResponseTextAsync(staple.Encoded.ToArray(), fixture.Directory), ocsp);
            Assert.Contains($"Serial Number: {certificate.SerialNumber}", ocsp, StringComparison.OrdinalIgnoreCase);
            Assert.Contains($"CN = {certificate.GetNameInfo(X509NameType.DnsName, false)}", output, StringComparison.Ordinal);
        }

        (string? noStaple, string noStapleOutput) = await OpenSslStatus(server, none);
        Assert.Null(noStaple);
        Assert.Contains($"CN = {none.GetNameInfo(X509NameType.DnsName, false)}", noStapleOutput, StringComparison.Ordinal);

        // Not listed up front: hooked on its first handshake, stapled once the provider has fetched.
        await OpenSslStatus(server, late);
        await server.WaitUntilAsync(() => server.StapledBytes(late) is not null, "staple for the late certificate");
        Assert.NotNull((await OpenSslStatus(server, late)).Ocsp);

        // One Warning, once: the certificate without an OCSP URL is never stapled (event 7); nothing else is wrong.
        Microsoft.Extensions.Logging.LogLevel warning = Microsoft.Extensions.Logging.LogLevel.Warning;
        Assert.Single(server.Logs.Entries, e => e.Level >= warning);
        Assert.Single(server.Logs.Entries, e => e.Level >= warning && e.EventId == Log.NoResponderId && e.Message.Contains(none.SerialNumber, StringComparison.OrdinalIgnoreCase));
        Assert.Equal(3, fixture.Responder.RequestCount);
    }

    [SkippableFact]
    public async Task StaplePastNextUpdate_IsNoLongerSent()
    {
        Requires.Programs("openssl");
        FakeTimeProvider time = fixture.Reset();
        X509Certificate2 leaf = fixture.NewLeaf("expiry");
        await using StaplingServer server = await StaplingServer.StartStapledAsync(time, fixture.NewCacheDirectory(), leaf, fixture.Chain);
        Assert.True(server.Provider.TryGetCachedStaple(leaf, out OcspStaple? staple));
        Assert.NotNull((await OpenSslStatus(server, leaf)).Ocsp);

        fixture.Responder.Fault = ResponderFault.Down;
        time.SetUtcNow(staple.NextUpdate + TimeSpan.FromSeconds(1));
        await server.WaitUntilAsync(() => server.StapledBytes(leaf) is null, "staple removed at nextUpdate");

        Assert.Null((await OpenSslStatus(server, leaf)).Ocsp);
        Assert.Null((await OpenSslStatus(server, leaf, "-tls1_2")).Ocsp);
    }

    [SkippableFact]
    public async Task GnuTlsClient_VerifiesAndSavesTheStaple()
    {
        Requires.Programs("gnutls-cli");
        FakeTimeProvider time = fixture.Reset();
        X509Certificate2 leaf = fixture.NewLeaf("gnutls");
        await using StaplingServer server = await StaplingServer.StartStapledAsync(time, fixture.NewCacheDirectory(), leaf, fixture.Chain);
        Assert.True(server.Provider.TryGetCachedStaple(leaf, out OcspStaple? staple));

        // Down: gnutls-cli --ocsp would otherwise be able to ask the responder itself.
        fixture.Responder.Fault = ResponderFault.Down;
        (byte[]? saved, string output, int exitCode) = await TlsClients.GnuTlsAsync(server.Port, leaf.GetNameInfo(X509NameType.DnsName, false), fixture.RootFile, fixture.Directory);

        Assert.True(exitCode == 0, output);
        Assert.Equal(staple.Encoded.ToArray(), saved);
        Assert.Equal(1, fixture.Responder.RequestCount);
    }

    [Fact]
    public async Task DotNetClient_OnlineRevocationWithResponderDown_SucceedsOnlyThanksToTheStaple()
    {
        FakeTimeProvider time = fixture.Reset();
        X509Certificate2 leaf = fixture.NewLeaf("dotnet");
        await using StaplingServer server = await StaplingServer.StartStapledAsync(time, fixture.NewCacheDirectory(), leaf, fixture.Chain);
        fixture.Responder.Fault = ResponderFault.Down;

        X509ChainStatusFlags stapled = await DotNetClientChainStatusAsync(server.Port, leaf);
        Assert.Equal(X509ChainStatusFlags.NoError, stapled);

        // Control: the same client against a certificate without a staple cannot establish revocation status.
        X509Certificate2 unstapled = fixture.NewLeaf("dotnet-control");
        await using StaplingServer control = await StaplingServer.StartAsync(time, fixture.NewCacheDirectory(), l => l.UseHttpsWithOcspStapling(unstapled, fixture.Chain));
        Assert.Null(control.StapledBytes(unstapled));
        X509ChainStatusFlags without = await DotNetClientChainStatusAsync(control.Port, unstapled);
        Assert.True((without & X509ChainStatusFlags.RevocationStatusUnknown) != 0, $"control status: {without}");
    }

    private async Task<X509ChainStatusFlags> DotNetClientChainStatusAsync(int port, X509Certificate2 leaf)
    {
        X509ChainStatusFlags flags = X509ChainStatusFlags.NoError;
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(System.Net.IPAddress.Loopback, port);
        await using var tls = new System.Net.Security.SslStream(tcp.GetStream());
        var policy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.Online,
            RevocationFlag = X509RevocationFlag.EndCertificateOnly,
            UrlRetrievalTimeout = TimeSpan.FromSeconds(5),
        };
        policy.CustomTrustStore.Add(fixture.Pki.Root);
        policy.ExtraStore.Add(fixture.Pki.Intermediate);
        await tls.AuthenticateAsClientAsync(new System.Net.Security.SslClientAuthenticationOptions
        {
            TargetHost = leaf.GetNameInfo(X509NameType.DnsName, false),
            CertificateRevocationCheckMode = X509RevocationMode.Online,
            CertificateChainPolicy = policy,
            RemoteCertificateValidationCallback = (_, _, chain, errors) =>
            {
                foreach (X509ChainStatus status in chain!.ChainStatus)
                {
                    flags |= status.Status;
                }

                // Only revocation may be in question; anything else is a broken test setup.
                return errors == System.Net.Security.SslPolicyErrors.None
                    || (errors == System.Net.Security.SslPolicyErrors.RemoteCertificateChainErrors
                        && (flags & ~(X509ChainStatusFlags.RevocationStatusUnknown | X509ChainStatusFlags.OfflineRevocation)) == 0);
            },
        });
        return flags;
    }

    private Task<(string? Ocsp, string Output)> OpenSslStatus(StaplingServer server, X509Certificate2 leaf, string tlsVersion = "-tls1_3") =>
        TlsClients.OpenSslStatusAsync(server.Port, leaf.GetNameInfo(X509NameType.DnsName, false), fixture.RootFile, tlsVersion);
}
