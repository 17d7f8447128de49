using System.Security.Cryptography.X509Certificates;

namespace Ocsp.Stapling.Testing;

/// <summary>
/// The one test set-up of PKI and responder: an in-process OCSP responder on 127.0.0.1, a PKI whose leaves point at it,
/// and a work directory with the root and issuer as PEM. By default at the real "now": clients and servers outside the
/// process (OpenSSL, GnuTLS, nginx, HAProxy, .NET) check times against the real clock. A test project declares it as
/// an xunit fixture in one line: <c>public sealed class MyFixture : PkiResponderFixture, IAsyncLifetime;</c>.
/// </summary>
public class PkiResponderFixture
{
    private readonly DateTimeOffset? _start;
    private int _leaves;

    /// <summary>Initializes a fixture at the real now.</summary>
    public PkiResponderFixture()
    {
    }

    /// <summary>Initializes a fixture whose PKI and clocks start at <paramref name="start"/>.</summary>
    protected PkiResponderFixture(DateTimeOffset start) => _start = start;

    public TestOcspResponder Responder { get; private set; } = null!;

    public TestPki Pki { get; private set; } = null!;

    public string Directory { get; } = Path.Combine(Path.GetTempPath(), "ocsp-stapling-tests-" + Guid.NewGuid().ToString("N"));

    /// <summary>Root certificate file, for the clients' trust.</summary>
    public string RootFile => Path.Combine(Directory, "root.pem");

    /// <summary>The leaves' issuer (the intermediate), as PEM.</summary>
    public string IssuerFile => Path.Combine(Directory, "issuer.pem");

    /// <summary>The chain a server sends with a leaf.</summary>
    public X509Certificate2Collection Chain => [Pki.Intermediate];

    public async Task InitializeAsync()
    {
        System.IO.Directory.CreateDirectory(Directory);
        Responder = await TestOcspResponder.StartAsync();
        Pki = TestPki.Create(Responder.Url, _start ?? TimeProvider.System.GetUtcNow());
        Responder.AddIssuer(Pki.Intermediate);
        Responder.AddIssuer(Pki.Root); // the intermediate's own status (client-certificate chains)
        await File.WriteAllTextAsync(RootFile, TestPki.ToPem(Pki.Root));
        await File.WriteAllTextAsync(IssuerFile, TestPki.ToPem(Pki.Intermediate));
    }

    public async Task DisposeAsync()
    {
        await Responder.DisposeAsync();
        Pki.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }

    /// <summary>A fresh clock at the fixture's start (whole seconds, as in the responses' GeneralizedTime), given to the responder, which is reset (no faults, count 0).</summary>
    public FakeTimeProvider Reset()
    {
        DateTimeOffset now = _start ?? TimeProvider.System.GetUtcNow();
        var time = new FakeTimeProvider(now.AddTicks(-(now.UtcTicks % TimeSpan.TicksPerSecond)));
        Responder.Reset(time);
        return time;
    }

    /// <summary>A new leaf (never handshaken with before), pointing at the responder unless <paramref name="withOcspUrl"/> is false.</summary>
    public X509Certificate2 NewLeaf(string name, bool withOcspUrl = true, bool mustStaple = false) =>
        Pki.IssueLeaf($"{name}-{Interlocked.Increment(ref _leaves)}.test", withOcspUrl ? Responder.Url : null, mustStaple);

    /// <summary>A new leaf written to its own directory (see <see cref="LeafFiles"/>).</summary>
    public LeafFiles NewLeafFiles(string name)
    {
        X509Certificate2 leaf = NewLeaf(name);
        string directory = Path.Combine(Directory, leaf.GetNameInfo(X509NameType.DnsName, forIssuer: false));
        System.IO.Directory.CreateDirectory(directory);
        var files = new LeafFiles(leaf, directory);
        File.WriteAllText(files.Leaf, TestPki.ToPem(leaf));
        File.WriteAllText(files.Chain, TestPki.ToPem(leaf) + TestPki.ToPem(Pki.Intermediate));
        File.WriteAllText(files.Key, TestPki.PrivateKeyPem(leaf));
        File.WriteAllText(files.HaProxyPem, TestPki.ToPem(leaf) + TestPki.PrivateKeyPem(leaf) + TestPki.ToPem(Pki.Intermediate));
        return files;
    }

    /// <summary>A new, empty cache directory path.</summary>
    public string NewCacheDirectory() => Path.Combine(Directory, "cache-" + Guid.NewGuid().ToString("N"));
}

/// <summary>A leaf's files: <c>leaf.pem</c> (certificate), <c>chain.pem</c> (leaf + issuer), <c>key.pem</c>, <c>haproxy.pem</c> (all three).</summary>
public sealed record LeafFiles(X509Certificate2 Certificate, string Directory)
{
    public string Leaf => Path.Combine(Directory, "leaf.pem");

    public string Chain => Path.Combine(Directory, "chain.pem");

    public string Key => Path.Combine(Directory, "key.pem");

    public string HaProxyPem => Path.Combine(Directory, "haproxy.pem");

    public string Ocsp => Path.Combine(Directory, "haproxy.pem.ocsp");
}
