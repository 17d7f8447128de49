using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tool.Tests;

/// <summary>
/// <c>dotnet ocsp-stapling.dll serve --urls http://127.0.0.1:0 …</c> as a child process. Its output is drained as it comes
/// (a full pipe would stall its logging), the bound address is read from its "listening on" line, and it is stopped by its own pid.
/// </summary>
internal sealed partial class ServeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ServeProcess(Process process) => _process = process;

    /// <summary>Gets the process's highest resident memory so far (Linux: VmHWM of /proc/PID/status), in bytes.</summary>
    public long PeakResidentBytes =>
        File.ReadLines($"/proc/{_process.Id}/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal)) is var line
            ? long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024
            : 0;

    /// <summary>The address the proxy bound (from its startup line).</summary>
    public Uri Url { get; private set; } = null!;

    /// <summary>Everything the process wrote so far (stdout and stderr, in arrival order per stream).</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts serve with ASP.NET Core's per-request lines on (the tests read which method a server used), as the environment turns them on.</summary>
    public static Task<ServeProcess> StartAsync(params string[] arguments) => StartAsync(requestLines: true, arguments);

    /// <summary>Starts serve; with <paramref name="requestLines"/> false, its log is exactly what it writes by default.</summary>
    public static async Task<ServeProcess> StartAsync(bool requestLines, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (requestLines)
        {
            start.Environment["Logging__LogLevel__Microsoft.AspNetCore.Hosting.Diagnostics"] = "Information";
        }

        foreach (string argument in (string[])[ToolFixture.ToolDllPath, "serve", "--urls", "http://127.0.0.1:0", .. arguments])
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start dotnet.");
        var server = new ServeProcess(process);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => server._listening.TrySetException(new InvalidOperationException("serve exited before listening."));

        try
        {
            server.Url = await server._listening.Task.WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException)
        {
            string output = server.Output;
            await server.DisposeAsync();
            Assert.Fail($"serve did not start ({ex.Message}):\n{output}");
        }

        return server;
    }

    /// <summary>Stops the proxy as systemd would (SIGTERM), killing it if it has not exited within 15 s; returns its exit code.</summary>
    public async Task<int> StopAsync()
    {
        if (!_process.HasExited)
        {
            await ExternalProgram.RunAsync("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], timeout: TimeSpan.FromSeconds(10));
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            try
            {
                await _process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }

        return _process.ExitCode;
    }

    /// <summary>Kills the proxy with SIGKILL (no shutdown code runs, as in a crash or an OOM kill) and waits for it to be gone.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(); // SIGKILL on Unix
            await _process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }

        Match match = ListeningLine().Match(line);
        if (match.Success)
        {
            _listening.TrySetResult(new Uri(match.Groups[1].Value));
        }
    }

    [GeneratedRegex(@"^OCSP proxy listening on (http://[^,\s]+)")]
    private static partial Regex ListeningLine();
}
