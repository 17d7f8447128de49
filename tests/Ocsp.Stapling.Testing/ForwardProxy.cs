using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Ocsp.Stapling.Testing;

/// <summary>
/// A real outbound HTTP proxy for the tests: Debian's tinyproxy on 127.0.0.1 and a free port, with its own
/// configuration, log and pidfile in a test directory, optionally asking for Basic credentials (407 without them);
/// stopped by its pid. What a firewall lets servers out through.
/// </summary>
public sealed class ForwardProxy : IAsyncDisposable
{
    private readonly string _pidFile;

    private ForwardProxy(Uri url, string pidFile, string logFile)
    {
        Url = url;
        _pidFile = pidFile;
        LogFile = logFile;
    }

    /// <summary>Gets the proxy's URL, without credentials: <c>http://127.0.0.1:PORT/</c>.</summary>
    public Uri Url { get; }

    public string LogFile { get; }

    /// <summary>Gets what the proxy logged so far (its requests and CONNECTs).</summary>
    public string Log => File.Exists(LogFile) ? File.ReadAllText(LogFile) : "";

    /// <summary>Starts tinyproxy; with <paramref name="user"/> and <paramref name="password"/>, it answers 407 to requests without them.</summary>
    public static async Task<ForwardProxy> StartAsync(string directory, string? user = null, string? password = null)
    {
        string prefix = Path.Combine(directory, "tinyproxy-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(prefix);
        string pid = Path.Combine(prefix, "tinyproxy.pid");
        string log = Path.Combine(prefix, "tinyproxy.log");
        string config = Path.Combine(prefix, "tinyproxy.conf");
        int port = FreePort();
        await File.WriteAllTextAsync(config, $"""
            Port {port}
            Listen 127.0.0.1
            Timeout 30
            PidFile "{pid}"
            LogFile "{log}"
            LogLevel Info
            MaxClients 64
            {(user is null ? "" : $"BasicAuth {user} {password}")}

            """);

        // Without -d it daemonizes: our pipes are not held open, and it is stopped by its pidfile.
        ProgramResult started = await ExternalProgram.RunAsync(ExternalProgram.Find("tinyproxy")!, ["-c", config], timeout: TimeSpan.FromSeconds(30));
        if (started.ExitCode != 0)
        {
            throw new InvalidOperationException($"tinyproxy did not start:\n{started}");
        }

        var proxy = new ForwardProxy(new Uri($"http://127.0.0.1:{port}/"), pid, log);
        await Signals.TryWaitAsync(() => proxy.Log.Contains("Accepting connections", StringComparison.Ordinal)); // the daemon listening

        if (!proxy.Log.Contains("Accepting connections", StringComparison.Ordinal))
        {
            await proxy.DisposeAsync();
            throw new InvalidOperationException($"tinyproxy did not listen:\n{proxy.Log}");
        }

        return proxy;
    }

    /// <summary>The proxy URL with <paramref name="user"/>:<paramref name="password"/> in it (percent-encoded).</summary>
    public Uri UrlWith(string user, string password) =>
        new($"http://{Uri.EscapeDataString(user)}:{Uri.EscapeDataString(password)}@{Url.Authority}/");

    public async ValueTask DisposeAsync()
    {
        if (File.Exists(_pidFile) && int.TryParse((await File.ReadAllTextAsync(_pidFile)).Trim(), out int pid))
        {
            await ExternalProgram.RunAsync("kill", ["-TERM", pid.ToString(CultureInfo.InvariantCulture)], timeout: TimeSpan.FromSeconds(10));
            await Signals.TryWaitAsync(() => !File.Exists($"/proc/{pid}"));
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
