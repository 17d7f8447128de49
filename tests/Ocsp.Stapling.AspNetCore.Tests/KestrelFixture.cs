using System.Security.Cryptography.X509Certificates;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.AspNetCore.Tests;

/// <summary>
/// A test responder and a PKI for Kestrel tests. Clients (OpenSSL, GnuTLS, .NET) check times against the real clock,
/// so the PKI and the fake clocks start at the real "now".
/// </summary>
public sealed class KestrelFixture : IAsyncLifetime
{
    private int _leaves;

    public TestOcspResponder Responder { get; private set; } = null!;

    public TestPki Pki { get; private set; } = null!;

    public string Directory { get; } = Path.Combine(Path.GetTempPath(), "ocsp-kestrel-tests-" + Guid.NewGuid().ToString("N"));

    /// <summary>Root certificate file for the clients' trust.</summary>
    public string RootFile => Path.Combine(Directory, "root.pem");

    public async Task InitializeAsync()
    {
        System.IO.Directory.CreateDirectory(Directory);
        Responder = await TestOcspResponder.StartAsync();
        Pki = TestPki.Create(Responder.Url, TimeProvider.System.GetUtcNow());
        Responder.AddIssuer(Pki.Intermediate);
        await File.WriteAllTextAsync(RootFile, TestPki.ToPem(Pki.Root));
    }

    public async Task DisposeAsync()
    {
        await Responder.DisposeAsync();
        Pki.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }

    /// <summary>A fresh clock at the real now, given to the responder; the responder is reset (no faults, count 0).</summary>
    public FakeTimeProvider Reset()
    {
        // Whole seconds, as in the responses' GeneralizedTime, so that ages and remaining validity come out exact.
        DateTimeOffset now = TimeProvider.System.GetUtcNow();
        var time = new FakeTimeProvider(now.AddTicks(-(now.UtcTicks % TimeSpan.TicksPerSecond)));
        Responder.Reset(time);
        return time;
    }

    /// <summary>A new leaf (never handshaken with before) pointing at the responder.</summary>
    public X509Certificate2 NewLeaf(string name, bool withOcspUrl = true, bool mustStaple = false) =>
        Pki.IssueLeaf($"{name}-{Interlocked.Increment(ref _leaves)}.test", withOcspUrl ? Responder.Url : null, mustStaple);

    /// <summary>A new, empty cache directory.</summary>
    public string NewCacheDirectory() => Path.Combine(Directory, "cache-" + Guid.NewGuid().ToString("N"));

    public X509Certificate2Collection Chain => [Pki.Intermediate];
}
