using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Ocsp.Stapling.AspNetCore;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Benchmarks;

/// <summary>
/// Full TLS handshakes (no resumption) against one in-process Kestrel on 127.0.0.1: an endpoint with Kestrel's own
/// <c>UseHttps</c> (stapling off, the baseline), one with <c>UseHttpsWithOcspStapling</c> (stapling on), and one served
/// from watched PEM files (<c>UseHttpsWithOcspStaplingFromPem</c>: the current certificate of a rotating source, read per
/// handshake). The client asks for certificate status on all; only the stapled ones answer with a staple (checked in setup).
/// </summary>
[MemoryDiagnoser]
public class HandshakeBenchmarks
{
    private BenchmarkPki _pki = null!;
    private TestOcspResponder _responder = null!;
    private WebApplication _app = null!;
    private X509Certificate2 _plainLeaf = null!;
    private X509Certificate2 _stapledLeaf = null!;
    private X509Certificate2 _filesLeaf = null!;
    private string _filesDirectory = null!;
    private int _plainPort;
    private int _stapledPort;
    private int _filesPort;

    [Params(SslProtocols.Tls12, SslProtocols.Tls13)]
    public SslProtocols Protocol { get; set; }

    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup()
    {
        _app.StopAsync().GetAwaiter().GetResult();
        _app.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _responder.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _pki.Dispose();
        Directory.Delete(_filesDirectory, recursive: true);
    }

    [Benchmark(Baseline = true, Description = "Handshake, stapling off")]
    public Task StaplingOff() => HandshakeAsync(_plainPort, _plainLeaf, counter: null);

    [Benchmark(Description = "Handshake, stapling on")]
    public Task StaplingOn() => HandshakeAsync(_stapledPort, _stapledLeaf, counter: null);

    [Benchmark(Description = "Handshake, stapling on, watched files")]
    public Task StaplingOnFromFiles() => HandshakeAsync(_filesPort, _filesLeaf, counter: null);

    private async Task SetupAsync()
    {
        _responder = await TestOcspResponder.StartAsync();
        _pki = new BenchmarkPki(TimeProvider.System.GetUtcNow());
        _responder.AddIssuer(_pki.Issuer);
        // No OCSP URL for the baseline: the client, asking for status and getting none, has nothing to fetch either.
        _plainLeaf = _pki.IssueServerLeaf("plain.bench", ocspUrl: null);
        _stapledLeaf = _pki.IssueServerLeaf("stapled.bench", _responder.Url);
        _filesLeaf = _pki.IssueServerLeaf("files.bench", _responder.Url);
        _filesDirectory = Directory.CreateTempSubdirectory("ocsp-stapling-bench-").FullName;
        string certificateFile = Path.Combine(_filesDirectory, "fullchain.pem");
        string keyFile = Path.Combine(_filesDirectory, "privkey.pem");
        await File.WriteAllTextAsync(certificateFile, _filesLeaf.ExportCertificatePem() + "\n" + _pki.Issuer.ExportCertificatePem() + "\n");
        using (AsymmetricAlgorithm key = (AsymmetricAlgorithm?)_filesLeaf.GetRSAPrivateKey() ?? _filesLeaf.GetECDsaPrivateKey()!)
        {
            await File.WriteAllTextAsync(keyFile, key.ExportPkcs8PrivateKeyPem());
        }

        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddOcspStapling().UseMemoryOnly();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, 0, l => l.UseHttps(new HttpsConnectionAdapterOptions { ServerCertificate = _plainLeaf }));
            kestrel.Listen(IPAddress.Loopback, 0, l => l.UseHttpsWithOcspStapling(_stapledLeaf, [_pki.Issuer]));
            kestrel.Listen(IPAddress.Loopback, 0, l => l.UseHttpsWithOcspStaplingFromPem(certificateFile, keyFile));
        });
        _app = builder.Build();
        await _app.StartAsync();
        int[] ports = [.. _app.Urls.Select(u => new Uri(u).Port)];
        (_plainPort, _stapledPort, _filesPort) = (ports[0], ports[1], ports[2]);

        // Wait for the first staple, then check that it travels: the stapled handshake carries the response's bytes more.
        OcspStaple staple = await _app.Services.GetRequiredService<IOcspResponseProvider>().GetStapleAsync(_stapledLeaf, _pki.Issuer)
            ?? throw new InvalidOperationException("Benchmark setup: no staple.");
        var plain = new CountingStream.Counter();
        var stapled = new CountingStream.Counter();
        var files = new CountingStream.Counter();
        await HandshakeAsync(_plainPort, _plainLeaf, plain);
        await HandshakeAsync(_stapledPort, _stapledLeaf, stapled);
        await HandshakeAsync(_filesPort, _filesLeaf, files);
        Console.WriteLine($"// Handshake bytes received by the client ({Protocol}): stapling off {plain.Read}, on {stapled.Read}; staple {staple.Encoded.Length} bytes");
        if (stapled.Read < plain.Read + staple.Encoded.Length || files.Read < plain.Read + staple.Encoded.Length)
        {
            throw new InvalidOperationException($"Benchmark setup: the staple did not travel ({plain.Read} vs {stapled.Read} bytes).");
        }
    }

    private async Task HandshakeAsync(int port, X509Certificate2 leaf, CountingStream.Counter? counter)
    {
        using var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        Stream transport = counter is null ? tcp.GetStream() : new CountingStream(tcp.GetStream(), counter);
        await using var tls = new SslStream(transport);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = leaf.GetNameInfo(X509NameType.DnsName, false),
            EnabledSslProtocols = Protocol,
            AllowTlsResume = false,

            // The .NET client asks for a staple (status_request) when it checks revocation; the chain policy trusts
            // the benchmark CA and checks the leaf only, so the staple answers it without any network.
            CertificateRevocationCheckMode = X509RevocationMode.Online,
            CertificateChainPolicy = ChainPolicy(),
            RemoteCertificateValidationCallback = static (_, certificate, _, _) => certificate is not null,
        });
    }

    private X509ChainPolicy ChainPolicy()
    {
        var policy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.Online,
            RevocationFlag = X509RevocationFlag.EndCertificateOnly,
            UrlRetrievalTimeout = TimeSpan.FromMilliseconds(1),
        };
        policy.CustomTrustStore.Add(_pki.Issuer);
        return policy;
    }
}
