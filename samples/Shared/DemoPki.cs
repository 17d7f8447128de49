using System.Security.Cryptography.X509Certificates;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Samples;

/// <summary>Demo mode: a throw-away CA with a "localhost" certificate whose AIA points at a local OCSP responder.</summary>
internal sealed class DemoPki : IAsyncDisposable
{
    private readonly FileStream _lock;

    private DemoPki(FileStream lockFile, TestOcspResponder responder, TestPki pki, X509Certificate2 leaf, string directory)
    {
        _lock = lockFile;
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

    /// <summary>The demo CA for <c>--client-ca</c>: its root and intermediate (clients may send their certificate alone).</summary>
    public string ClientCaFile => Path.Combine(Directory, "client-ca.pem");

    /// <summary>A client certificate (clientAuth) its responder says is good: client.pem and client.key.</summary>
    public string ClientCertificateFile => Path.Combine(Directory, "client.pem");

    public string ClientKeyFile => Path.Combine(Directory, "client.key");

    /// <summary>A client certificate its responder says is revoked: client-revoked.pem and client-revoked.key.</summary>
    public string RevokedClientCertificateFile => Path.Combine(Directory, "client-revoked.pem");

    public string RevokedClientKeyFile => Path.Combine(Directory, "client-revoked.key");

    /// <summary>
    /// Starts the responder on 127.0.0.1 (a free port), issues the PKI and writes it as PEM files; or, when another sample
    /// is using <paramref name="directory"/> (it holds the directory's lock file), says so and returns null: writing a
    /// new PKI there would pull the files from under the running one.
    /// </summary>
    public static async Task<DemoPki?> CreateAsync(string directory)
    {
        System.IO.Directory.CreateDirectory(directory);
        FileStream lockFile;
        try
        {
            lockFile = new FileStream(Path.Combine(directory, ".lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            Console.Error.WriteLine($"Cannot start: another sample is using the demo directory {directory} (its PKI and responder); give this one another with --dir DIR");
            return null;
        }

        TestOcspResponder responder = await TestOcspResponder.StartAsync();
        var pki = TestPki.Create(responder.Url);
        responder.AddIssuer(pki.Intermediate);
        responder.AddIssuer(pki.Root); // the intermediate's own status: client-certificate checks ask about every CA below the root
        X509Certificate2 leaf = pki.IssueLeaf("localhost", responder.Url);
        var demo = new DemoPki(lockFile, responder, pki, leaf, directory);
        await File.WriteAllTextAsync(demo.RootFile, TestPki.ToPem(pki.Root));
        await File.WriteAllTextAsync(demo.ChainFile, TestPki.ToPem(pki.Intermediate));
        await File.WriteAllTextAsync(demo.CertificateFile, TestPki.ToPem(leaf));
        await File.WriteAllTextAsync(demo.KeyFile, TestPki.PrivateKeyPem(leaf));
        X509Certificate2 client = pki.IssueClient("demo client", responder.Url);
        X509Certificate2 revoked = pki.IssueClient("demo client (revoked)", responder.Url);
        responder.Revoke(revoked, DateTimeOffset.UtcNow.AddMinutes(-5));
        await File.WriteAllTextAsync(demo.ClientCaFile, TestPki.ToPem(pki.Root) + TestPki.ToPem(pki.Intermediate));
        await File.WriteAllTextAsync(demo.ClientCertificateFile, TestPki.ToPem(client) + TestPki.ToPem(pki.Intermediate));
        await File.WriteAllTextAsync(demo.ClientKeyFile, TestPki.PrivateKeyPem(client));
        await File.WriteAllTextAsync(demo.RevokedClientCertificateFile, TestPki.ToPem(revoked) + TestPki.ToPem(pki.Intermediate));
        await File.WriteAllTextAsync(demo.RevokedClientKeyFile, TestPki.PrivateKeyPem(revoked));
        return demo;
    }

    public async ValueTask DisposeAsync()
    {
        await Responder.DisposeAsync();
        Pki.Dispose();
        await _lock.DisposeAsync();
    }
}
