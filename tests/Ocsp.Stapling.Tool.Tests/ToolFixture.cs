using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tool.Tests;

/// <summary>The shared PKI and responder at the real now (nginx, HAProxy and OpenSSL check times against the real clock), and the tool.</summary>
public sealed class ToolFixture : PkiResponderFixture, IAsyncLifetime
{
    /// <summary>A new leaf in its own directory (see <see cref="LeafFiles"/>).</summary>
    public LeafFiles NewLeaf(string name) => NewLeafFiles(name);

    /// <summary>Runs <c>dotnet ocsp-stapling.dll</c>.</summary>
    /// <summary>Runs the tool with environment variables set (a null value removes one).</summary>
    public static Task<ProgramResult> RunToolAsync(IReadOnlyDictionary<string, string?> environment, params string[] arguments) =>
        ExternalProgram.RunAsync("dotnet", [ToolDllPath, .. arguments], timeout: TimeSpan.FromSeconds(90), environment: environment);

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
