using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tool.Tests;

/// <summary>A responder and PKI at the real now (nginx, HAProxy and OpenSSL check times against the real clock), a work directory, and the tool.</summary>
public sealed class ToolFixture : IAsyncLifetime
{
    private int _leaves;

    public TestOcspResponder Responder { get; private set; } = null!;

    public TestPki Pki { get; private set; } = null!;

    public string Directory { get; } = Path.Combine(Path.GetTempPath(), "ocsp-tool-tests-" + Guid.NewGuid().ToString("N"));

    public string RootFile => Path.Combine(Directory, "root.pem");

    public string IssuerFile => Path.Combine(Directory, "issuer.pem");

    public async Task InitializeAsync()
    {
        System.IO.Directory.CreateDirectory(Directory);
        Responder = await TestOcspResponder.StartAsync();
        Pki = TestPki.Create(Responder.Url, TimeProvider.System.GetUtcNow());
        Responder.AddIssuer(Pki.Intermediate);
        await File.WriteAllTextAsync(RootFile, TestPki.ToPem(Pki.Root));
        await File.WriteAllTextAsync(IssuerFile, TestPki.ToPem(Pki.Intermediate));
    }

    public async Task DisposeAsync()
    {
        await Responder.DisposeAsync();
        Pki.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }

    /// <summary>A new leaf in its own directory: <c>leaf.pem</c> (certificate), <c>chain.pem</c> (leaf + issuer), <c>key.pem</c>, <c>haproxy.pem</c> (all three).</summary>
    public LeafFiles NewLeaf(string name)
    {
        X509Certificate2 leaf = Pki.IssueLeaf($"{name}-{Interlocked.Increment(ref _leaves)}.test", Responder.Url, false);
        string directory = Path.Combine(Directory, $"{name}-{_leaves}");
        System.IO.Directory.CreateDirectory(directory);
        var files = new LeafFiles(leaf, directory);
        File.WriteAllText(files.Leaf, TestPki.ToPem(leaf));
        File.WriteAllText(files.Chain, TestPki.ToPem(leaf) + TestPki.ToPem(Pki.Intermediate));
        File.WriteAllText(files.Key, TestPki.PrivateKeyPem(leaf));
        File.WriteAllText(files.HaProxyPem, TestPki.ToPem(leaf) + TestPki.PrivateKeyPem(leaf) + TestPki.ToPem(Pki.Intermediate));
        return files;
    }

    /// <summary>Runs <c>dotnet ocsp-stapling.dll</c>.</summary>
    public static Task<ProgramResult> RunToolAsync(params string[] arguments) =>
        ExternalProgram.RunAsync("dotnet", [ToolDllPath, .. arguments], timeout: TimeSpan.FromSeconds(90));

    /// <summary>A loopback port free at the time of the call (for servers configured by file).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The tool's build output, next to this test assembly's (artifacts/bin/&lt;project&gt;/&lt;configuration&gt;/).</summary>
    public static string ToolDllPath
    {
        get
        {
            var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            string dll = Path.Combine(testOutput.Parent!.Parent!.FullName, "Ocsp.Stapling.Tool", testOutput.Name, "ocsp-stapling.dll");
            Assert.True(File.Exists(dll), $"Tool not built at {dll}");
            return dll;
        }
    }
}

public sealed record LeafFiles(X509Certificate2 Certificate, string Directory)
{
    public string Leaf => Path.Combine(Directory, "leaf.pem");

    public string Chain => Path.Combine(Directory, "chain.pem");

    public string Key => Path.Combine(Directory, "key.pem");

    public string HaProxyPem => Path.Combine(Directory, "haproxy.pem");

    public string Ocsp => Path.Combine(Directory, "haproxy.pem.ocsp");
}
