using System.Security.Cryptography.X509Certificates;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Samples;

/// <summary>Demo mode: a throw-away CA with a "localhost" certificate whose AIA points at a local OCSP responder.</summary>
internal sealed class DemoPki : IAsyncDisposable
{
    private DemoPki(TestOcspResponder responder, TestPki pki, X509Certificate2 leaf, string directory)
    {
        Responder = responder;
        Pki = pki;
        Leaf = leaf;
        Directory = directory;
    }

    public TestOcspResponder Responder { get; }

    public TestPki Pki { get; }

    public X509Certificate2 Leaf { get; }

    public string Directory { get; }

    public string RootFile => Path.Combine(Directory, "root.pem");

    public string CertificateFile => Path.Combine(Directory, "localhost.pem");

    public string KeyFile => Path.Combine(Directory, "localhost.key");

    public string ChainFile => Path.Combine(Directory, "chain.pem");

    /// <summary>Starts the responder on 127.0.0.1 (a free port), issues the PKI and writes it as PEM files.</summary>
    public static async Task<DemoPki> CreateAsync(string directory)
    {
        System.IO.Directory.CreateDirectory(directory);
        TestOcspResponder responder = await TestOcspResponder.StartAsync();
        var pki = TestPki.Create(responder.Url);
        responder.AddIssuer(pki.Intermediate);
        X509Certificate2 leaf = pki.IssueLeaf("localhost", responder.Url);
        var demo = new DemoPki(responder, pki, leaf, directory);
        await File.WriteAllTextAsync(demo.RootFile, TestPki.ToPem(pki.Root));
        await File.WriteAllTextAsync(demo.ChainFile, TestPki.ToPem(pki.Intermediate));
        await File.WriteAllTextAsync(demo.CertificateFile, TestPki.ToPem(leaf));
        await File.WriteAllTextAsync(demo.KeyFile, TestPki.PrivateKeyPem(leaf));
        return demo;
    }

    public async ValueTask DisposeAsync()
    {
        await Responder.DisposeAsync();
        Pki.Dispose();
    }
}
