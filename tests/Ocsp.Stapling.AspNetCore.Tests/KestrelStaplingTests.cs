using System.Security.Cryptography.X509Certificates;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.AspNetCore.Tests;

public sealed class KestrelStaplingTests(KestrelFixture fixture) : IClassFixture<KestrelFixture>
{
    [SkippableTheory]
    [InlineData("-tls1_2")]
    [InlineData("-tls1_3")]
    public async Task FirstHandshake_OpenSsl_StaplesExactlyTheProvidersStaple(string tlsVersion)
    {
        Skip.IfNot(TlsClients.HasOpenSsl, "openssl is not installed");
        FakeTimeProvider time = fixture.Reset();
        X509Certificate2 leaf = fixture.NewLeaf("first");
        string cache = fixture.NewCacheDirectory();

        // A staple in the shared cache before the server starts: the first handshake must carry it.
        await using (StaplingServer warm = await StaplingServer.StartAsync(time, cache, l => l.UseHttpsWithOcspStapling(leaf, fixture.Chain)))
        {
            await warm.WaitUntilAsync(() => warm.StapledBytes(leaf) is not null, "first staple");
        }

        await using StaplingServer server = await StaplingServer.StartAsync(time, cache, l => l.UseHttpsWithOcspStapling(leaf, fixture.Chain));
        Assert.True(server.Provider.TryGetCachedStaple(leaf, out OcspStaple? staple));

        (string? ocsp, string output) = await TlsClients.OpenSslStatusAsync(server.Port, leaf.GetNameInfo(X509NameType.DnsName, false), fixture.RootFile, tlsVersion);

        Assert.NotNull(ocsp);
        Assert.Contains("OCSP Response Status: successful", ocsp, StringComparison.Ordinal);
        Assert.Contains("Cert Status: good", ocsp, StringComparison.Ordinal);
        Assert.Equal(await TlsClients.OpenSslResponseTextAsync(staple.Encoded.ToArray(), fixture.Directory), ocsp);
        Assert.Equal(staple.Encoded.ToArray(), server.StapledBytes(leaf));
        Assert.Equal(1, fixture.Responder.RequestCount);
        _ = output;
    }
}
