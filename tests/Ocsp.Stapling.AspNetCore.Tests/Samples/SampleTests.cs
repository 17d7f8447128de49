using System.Net;
using System.Diagnostics;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.RegularExpressions;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.AspNetCore.Tests.Samples;

/// <summary>
/// The samples as processes, checked from outside with <c>openssl s_client -status</c>: Kestrel (the README's main job)
/// and a raw SslStream server, which take the same options.
/// </summary>
public sealed class SampleTests(KestrelFixture fixture) : IClassFixture<KestrelFixture>, IDisposable
{
    private readonly List<Process> _samples = [];
    private readonly Dictionary<Process, Task<string>> _rest = [];

    [SkippableTheory]
    [InlineData("Kestrel")]
    [InlineData("SslStream")]
    public async Task NoArguments_DemoPkiAndLocalResponder_ServesAStapledHandshake(string sample)
    {
        Requires.Programs("openssl");
        string directory = Path.Combine(fixture.Directory, "demo-" + Guid.NewGuid().ToString("N"));

        (string command, string output) = await RunSampleUntilCommandAsync(sample, ["--port", "0", "--dir", directory]);

        Assert.Contains(": Good, thisUpdate ", output, StringComparison.Ordinal);
        if (Environment.GetEnvironmentVariable("OCSP_STAPLING_EXPECTED_RUNTIME") is { } runtime)
        {
            Assert.Contains($"Running on .NET {runtime}.", output, StringComparison.Ordinal); // .ci/run's .NET 11 pass: the sample rolled forward too
        }

        string stapled = await RunPrintedCommandAsync(command);
        Assert.Contains("OCSP Response Status: successful", stapled, StringComparison.Ordinal);
        Assert.Contains("Cert Status: good", stapled, StringComparison.Ordinal);
        Assert.Contains("Verify return code: 0 (ok)", stapled, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Kestrel_PrintsStatusAndMetricsUrls_MetricsCarryOcspStaplingSeries_StatusAndHealthAreJson()
    {
        string directory = Path.Combine(fixture.Directory, "observed-" + Guid.NewGuid().ToString("N"));

        (_, string output) = await RunSampleUntilCommandAsync("Kestrel", ["--port", "0", "--dir", directory]);

        Match urls = Regex.Match(output, @"Status page: (?<status>https://\S+)\s+Prometheus metrics: (?<metrics>https://\S+)");
        Assert.True(urls.Success, output);
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator };
        using var client = new HttpClient(handler);

        string metrics = await client.GetStringAsync(urls.Groups["metrics"].Value);
        Assert.Matches(new Regex(@"^ocsp_stapling_certificates(_\w+)?\{[^}]*state=""stapled""[^}]*\} 1(\s|$)", RegexOptions.Multiline), metrics);
        Assert.Matches(new Regex(@"^ocsp_stapling_fetch_count(_\w+)?\{[^}]*outcome=""success""", RegexOptions.Multiline), metrics);
        Assert.Matches(new Regex(@"^ocsp_stapling_fetch_duration_seconds_bucket\{[^}]*le=""0.25""\} [01]", RegexOptions.Multiline), metrics); // second-sized buckets

        using JsonDocument status = JsonDocument.Parse(await client.GetStringAsync(urls.Groups["status"].Value));
        JsonElement certificate = Assert.Single(status.RootElement.GetProperty("certificates").EnumerateArray());
        Assert.Equal("Good", certificate.GetProperty("staple").GetProperty("status").GetString());
        Assert.Equal("on", certificate.GetProperty("tlsStapling").GetString());

        string health = await client.GetStringAsync(urls.Groups["status"].Value.Replace("/ocsp-status", "/health", StringComparison.Ordinal));
        using JsonDocument healthDocument = JsonDocument.Parse(health);
        Assert.Equal("Healthy", healthDocument.RootElement.GetProperty("status").GetString());
        Assert.Equal(1, healthDocument.RootElement.GetProperty("ocspStapling").GetProperty("certificates").GetArrayLength());

        // Four requests served, and not one log line about them (ASP.NET Core's per-request lines are off by default).
        string after = await StopAndReadTheRestAsync(_samples[^1]);
        Assert.DoesNotContain("Request starting", after, StringComparison.Ordinal);
        Assert.DoesNotContain("Request finished", after, StringComparison.Ordinal);
        Assert.DoesNotContain("Executing endpoint", after, StringComparison.Ordinal);
        Assert.Contains("Application is shutting down", after, StringComparison.Ordinal); // the rest of the output was read
    }

    /// <summary>Stops the sample (SIGTERM, as Ctrl+C) and returns what it printed after the line waited for.</summary>
    private async Task<string> StopAndReadTheRestAsync(Process process)
    {
        ProgramResult stopped = await ExternalProgram.RunAsync("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        Assert.True(stopped.ExitCode == 0, stopped.ToString());
        return await _rest[process].WaitAsync(TimeSpan.FromSeconds(30));
    }

    [SkippableFact]
    public async Task Yarp_TwoHostNames_EachHandshakeStapledGoodForItsOwnCertificate()
    {
        Requires.Programs("openssl");
        string directory = Path.Combine(fixture.Directory, "yarp-" + Guid.NewGuid().ToString("N"));

        (IReadOnlyList<string> commands, string output) = await RunSampleUntilCommandsAsync("Yarp", ["--port", "0", "--dir", directory], count: 2);

        Assert.Equal(2, commands.Count);
        foreach ((string command, string name) in commands.Zip(["app.localhost", "api.localhost"]))
        {
            Assert.Contains($"-servername {name} ", command, StringComparison.Ordinal);
            string stapled = await RunPrintedCommandAsync(command);
            Assert.Contains("Cert Status: good", stapled, StringComparison.Ordinal);
            Assert.Contains($"subject=CN = {name}", stapled, StringComparison.Ordinal);
            Assert.Contains($"OCSP staple for 'CN={name}'", output, StringComparison.Ordinal);
        }
    }

    [SkippableTheory]
    [InlineData("Kestrel", "pem")]
    [InlineData("Kestrel", "pfx")]
    [InlineData("SslStream", "pem")]
    [InlineData("SslStream", "pfx")]
    public async Task RealCertificateArguments_StapleFromTheAiaResponder(string sample, string format)
    {
        Requires.Programs("openssl");
        fixture.Reset();
        X509Certificate2 leaf = fixture.NewLeaf($"sample-{sample}-{format}".ToLowerInvariant());
        string directory = Path.Combine(fixture.Directory, "real-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        string[] certificateArguments;
        if (format == "pem")
        {
            await File.WriteAllTextAsync(Path.Combine(directory, "cert.pem"), TestPki.ToPem(leaf));
            await File.WriteAllTextAsync(Path.Combine(directory, "key.pem"), TestPki.PrivateKeyPem(leaf));
            await File.WriteAllTextAsync(Path.Combine(directory, "chain.pem"), TestPki.ToPem(fixture.Pki.Intermediate));
            certificateArguments = ["--cert", Path.Combine(directory, "cert.pem"), "--key", Path.Combine(directory, "key.pem"), "--chain", Path.Combine(directory, "chain.pem")];
        }
        else
        {
            var bundle = new X509Certificate2Collection { leaf, fixture.Pki.Intermediate };
            await File.WriteAllBytesAsync(Path.Combine(directory, "site.pfx"), bundle.Export(X509ContentType.Pkcs12, "secret")!);
            certificateArguments = ["--pfx", Path.Combine(directory, "site.pfx"), "--password", "secret"];
        }

        (string command, _) = await RunSampleUntilCommandAsync(sample, [.. certificateArguments, "--port", "0", "--cache", Path.Combine(directory, "cache")]);

        // No -CAfile for a real certificate (system trust); add the test root so that openssl can verify.
        string stapled = await RunPrintedCommandAsync(command + " -CAfile " + fixture.RootFile);
        Assert.Contains("Cert Status: good", stapled, StringComparison.Ordinal);
        Assert.Contains($"Serial Number: {leaf.SerialNumber}", stapled, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(1, fixture.Responder.RequestCount);
    }

    /// <summary>The README's mTLS commands: the Kestrel sample checks revocation in certificate authentication (first request decided by the answer).</summary>
    [SkippableTheory]
    [InlineData("fail-closed")]
    [InlineData("fail-open")]
    public async Task Kestrel_ClientCa_GoodClientGets200_RevokedGets403_NoCertificateIsRefused(string policy)
    {
        Requires.Programs("openssl");
        string directory = Path.Combine(fixture.Directory, "mtls-" + Guid.NewGuid().ToString("N"));

        (string command, string output) = await RunSampleUntilCommandAsync(
            "Kestrel", ["--port", "0", "--dir", directory, "--client-ca", Path.Combine(directory, "client-ca.pem"), "--client-revocation", policy]);

        Assert.Contains($"-cert {directory}/client.pem -key {directory}/client.key", command, StringComparison.Ordinal);
        Assert.Contains("Cert Status: good", await RunPrintedCommandAsync(command), StringComparison.Ordinal);
        int port = PortOf(output);
        using X509Certificate2 good = ClientCertificate(directory, "client");
        using X509Certificate2 revoked = ClientCertificate(directory, "client-revoked");
        (HttpStatusCode status, string body) = await GetWithClientCertificateAsync(port, good);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("Client certificate 'CN=demo client' accepted", body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, (await GetWithClientCertificateAsync(port, revoked)).Status);
        await Assert.ThrowsAsync<HttpRequestException>(() => GetWithClientCertificateAsync(port, null));
    }

    /// <summary>
    /// The Kestrel sample's <c>--client-ca</c> with a CA kept by <c>openssl ca</c> that publishes a CRL (made by
    /// <c>openssl ca -gencrl</c>, served over HTTP) and no OCSP responder, no other option (issue 42): a good client
    /// gets 200 from its first request, a listed one 403, every request of both costs one CRL fetch, and the CRL held
    /// keeps deciding while its server is down.
    /// </summary>
    [SkippableFact]
    public async Task Kestrel_ClientCa_CrlOnlyCa_GoodGets200_ListedGets403_OneFetch_HeldWhileItsServerIsDown()
    {
        Requires.Programs("openssl");
        string directory = Path.Combine(fixture.Directory, "mtls-crl-" + Guid.NewGuid().ToString("N"));
        await using TestCrlServer crl = await TestCrlServer.StartAsync();
        OpenSslCa ca = await OpenSslCa.CreateAsync(Path.Combine(directory, "ca"), crl.Url);
        (await ca.IssueClientAsync("good")).Dispose();
        (await ca.IssueClientAsync("listed")).Dispose();
        await ca.RevokeAsync("listed");
        crl.Crl = await ca.GenerateCrlAsync();

        (_, string output) = await RunSampleUntilCommandAsync("Kestrel", ["--port", "0", "--dir", Path.Combine(directory, "demo"), "--client-ca", ca.CertificateFile]);
        int port = PortOf(output);
        using X509Certificate2 good = ClientCertificate(ca.Directory, "good");
        using X509Certificate2 listed = ClientCertificate(ca.Directory, "listed");
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await GetWithClientCertificateAsync(port, good)).Status);
            Assert.Equal(HttpStatusCode.Forbidden, (await GetWithClientCertificateAsync(port, listed)).Status);
        }

        Assert.Equal(1, crl.RequestCount);
        crl.Down = true;
        Assert.Equal(HttpStatusCode.OK, (await GetWithClientCertificateAsync(port, good)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await GetWithClientCertificateAsync(port, listed)).Status);
        Assert.Equal(1, crl.RequestCount);
    }

    /// <summary>The SslStream sample checks at the TLS level: a certificate never seen is refused (fail-closed) while its responder is asked; the next connection is decided by the answer.</summary>
    [SkippableFact]
    public async Task SslStream_ClientCa_FirstConnectionRefusedWhileAsking_ThenGoodAcceptedAndRevokedRefused()
    {
        Requires.Programs("openssl");
        string directory = Path.Combine(fixture.Directory, "mtls-raw-" + Guid.NewGuid().ToString("N"));

        (string command, string output) = await RunSampleUntilCommandAsync("SslStream", ["--port", "0", "--dir", directory, "--client-ca", Path.Combine(directory, "client-ca.pem")]);

        int port = int.Parse(Regex.Match(output, @"TLS with OCSP stapling on \S+:(\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        using X509Certificate2 good = ClientCertificate(directory, "client");
        using X509Certificate2 revoked = ClientCertificate(directory, "client-revoked");
        Assert.Null(await RawLineAsync(port, good)); // never seen: refused, its responder asked in the background
        Assert.Null(await RawLineAsync(port, revoked));
        string? accepted = await EventuallyAsync(() => RawLineAsync(port, good));
        Assert.Contains("client 'CN=demo client'", accepted, StringComparison.Ordinal);
        Assert.Null(await RawLineAsync(port, revoked));
        Assert.Contains("Cert Status: good", await RunPrintedCommandAsync(command), StringComparison.Ordinal);
    }

    /// <summary>Two Kestrel servers (processes) on one Redis: a client certificate's responder is asked once between them.</summary>
    [SkippableFact]
    public async Task TwoKestrelProcessesOnOneRedis_AskTheClientCertificatesResponderOnceBetweenThem()
    {
        string redis = Environment.GetEnvironmentVariable("OCSP_STAPLING_REDIS") ?? "";
        Skip.If(redis.Length == 0, Requires.NoRedis);
        fixture.Reset();
        X509Certificate2 leaf = fixture.NewLeaf("mtls-fleet");
        X509Certificate2 client = fixture.Pki.IssueClient("fleet client", fixture.Responder.Url);
        string directory = Path.Combine(fixture.Directory, "mtls-fleet-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        await File.WriteAllTextAsync(Path.Combine(directory, "cert.pem"), TestPki.ToPem(leaf));
        await File.WriteAllTextAsync(Path.Combine(directory, "key.pem"), TestPki.PrivateKeyPem(leaf));
        await File.WriteAllTextAsync(Path.Combine(directory, "chain.pem"), TestPki.ToPem(fixture.Pki.Intermediate));
        await File.WriteAllTextAsync(Path.Combine(directory, "client-ca.pem"), TestPki.ToPem(fixture.Pki.Root) + TestPki.ToPem(fixture.Pki.Intermediate));
        string[] arguments =
        [
            "--cert", Path.Combine(directory, "cert.pem"), "--key", Path.Combine(directory, "key.pem"), "--chain", Path.Combine(directory, "chain.pem"),
            "--client-ca", Path.Combine(directory, "client-ca.pem"), "--redis", redis, "--port", "0",
        ];
        OcspCertificateId clientId = OcspCertificateId.Create(client, fixture.Pki.Intermediate);

        (_, string first) = await RunSampleUntilCommandAsync("Kestrel", arguments);
        (_, string second) = await RunSampleUntilCommandAsync("Kestrel", arguments);
        (HttpStatusCode firstStatus, _) = await GetWithClientCertificateAsync(PortOf(first), client);
        (HttpStatusCode secondStatus, _) = await GetWithClientCertificateAsync(PortOf(second), client);

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (firstStatus, secondStatus));
        Assert.Equal(1, fixture.Responder.ReceivedCertificateIds.Count(id => id.Equals(clientId)));
    }

    [Theory]
    [InlineData("Kestrel")]
    [InlineData("SslStream")]
    public async Task BadArguments_ExitWithUsage(string sample)
    {
        ProgramResult result = await ExternalProgram.RunAsync("dotnet", [SampleDll(sample), "--port", "http"]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--port: 'http' is not a port number.", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("Usage:", result.StandardError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Kestrel")]
    [InlineData("SslStream")]
    public async Task MissingCertificateFile_ExitsWithTheFileNamed(string sample)
    {
        string missing = Path.Combine(fixture.Directory, "nope.pem");
        ProgramResult result = await ExternalProgram.RunAsync("dotnet", [SampleDll(sample), "--cert", missing, "--key", missing, "--port", "0"]);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"Certificate file '{missing}' does not exist.", result.StandardError, StringComparison.Ordinal);
    }

    /// <summary>A certificate that names no OCSP responder: served, a Warning logged once, and no stapling claim printed.</summary>
    [Fact]
    public async Task Kestrel_CertificateWithoutOcspUrl_WarnsAndMakesNoStaplingClaim()
    {
        X509Certificate2 leaf = fixture.NewLeaf("sample-no-aia", withOcspUrl: false);
        string directory = Path.Combine(fixture.Directory, "no-aia-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        await File.WriteAllTextAsync(Path.Combine(directory, "cert.pem"), TestPki.ToPem(leaf) + TestPki.ToPem(fixture.Pki.Intermediate));
        await File.WriteAllTextAsync(Path.Combine(directory, "key.pem"), TestPki.PrivateKeyPem(leaf));

        string output = await RunSampleUntilAsync(
            "Kestrel",
            ["--cert", Path.Combine(directory, "cert.pem"), "--key", Path.Combine(directory, "key.pem"), "--port", "0", "--cache", Path.Combine(directory, "cache")],
            line => line.StartsWith("Press Ctrl+C", StringComparison.Ordinal));

        Assert.Contains("HTTPS WITHOUT OCSP stapling on https://127.0.0.1:", output, StringComparison.Ordinal);
        Assert.DoesNotContain("HTTPS with OCSP stapling", output, StringComparison.Ordinal);
        Assert.DoesNotContain("openssl s_client", output, StringComparison.Ordinal);
        Assert.Contains("warn: Ocsp.Stapling[7]", output, StringComparison.Ordinal);
        Assert.Contains("has no usable OCSP responder (no OCSP URL in AIA and no override)", output, StringComparison.Ordinal);
        Assert.DoesNotContain("responders: )", output, StringComparison.Ordinal);
    }

    /// <summary>A port in use: one line saying so, exit 1; no stack trace (it is logged at Debug only).</summary>
    [Fact]
    public async Task Kestrel_PortInUse_OneLine_NoStackTrace()
    {
        using var holder = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        int port = ((IPEndPoint)holder.LocalEndpoint).Port;
        string directory = Path.Combine(fixture.Directory, "port-in-use-" + Guid.NewGuid().ToString("N"));

        ProgramResult result = await ExternalProgram.RunAsync("dotnet", [SampleDll("Kestrel"), "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--dir", directory]);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"Cannot start: Failed to bind to address https://127.0.0.1:{port}: address already in use.", result.StandardError.Trim());
        Assert.DoesNotContain("Hosting failed to start", result.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.StandardOutput + result.StandardError, StringComparison.Ordinal);
    }

    /// <summary>Two samples on one demo directory: the second is refused, and the first's PKI files are left as they were.</summary>
    [SkippableFact]
    public async Task Kestrel_DemoDirectoryInUse_SecondSampleRefused_FirstLeftAlone()
    {
        Requires.Programs("openssl");
        string directory = Path.Combine(fixture.Directory, "shared-demo-" + Guid.NewGuid().ToString("N"));
        (string command, _) = await RunSampleUntilCommandAsync("Kestrel", ["--port", "0", "--dir", directory]);
        string root = await File.ReadAllTextAsync(Path.Combine(directory, "root.pem"));

        ProgramResult second = await ExternalProgram.RunAsync("dotnet", [SampleDll("Kestrel"), "--port", "0", "--dir", directory]);

        Assert.Equal(1, second.ExitCode);
        Assert.Contains($"another sample is using the demo directory {directory}", second.StandardError, StringComparison.Ordinal);
        Assert.Equal(root, await File.ReadAllTextAsync(Path.Combine(directory, "root.pem")));
        Assert.Contains("Cert Status: good", await RunPrintedCommandAsync(command), StringComparison.Ordinal);
    }

    /// <summary>The sample's build output, next to this test assembly's (artifacts/bin/&lt;project&gt;/&lt;configuration&gt;/).</summary>
    private static string SampleDll(string sample)
    {
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string project = "Ocsp.Stapling.Samples." + sample;
        string dll = Path.Combine(testOutput.Parent!.Parent!.FullName, project, testOutput.Name, project + ".dll");
        Assert.True(File.Exists(dll), $"Sample not built at {dll}");
        return dll;
    }

    /// <summary>Runs the sample until it prints the openssl command; returns it and the output so far. The process is stopped in <see cref="Dispose"/>.</summary>
    private async Task<(string Command, string Output)> RunSampleUntilCommandAsync(string sample, string[] arguments)
    {
        (IReadOnlyList<string> commands, string output) = await RunSampleUntilCommandsAsync(sample, arguments, count: 1);
        return (commands[0], output);
    }

    /// <summary>Runs the sample until it printed <paramref name="count"/> openssl commands; returns them and the output so far.</summary>
    private async Task<(IReadOnlyList<string> Commands, string Output)> RunSampleUntilCommandsAsync(string sample, string[] arguments, int count)
    {
        var commands = new List<string>();
        string output = await RunSampleUntilAsync(sample, arguments, line =>
        {
            if (line.TrimStart().StartsWith("openssl s_client ", StringComparison.Ordinal))
            {
                commands.Add(line.Trim());
            }

            return commands.Count == count;
        });
        return (commands, output);
    }

    /// <summary>Runs the sample until <paramref name="stop"/> is true of a line it printed; returns the output so far.</summary>
    private async Task<string> RunSampleUntilAsync(string sample, string[] arguments, Func<string, bool> stop)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(SampleDll(sample));
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start)!;
        _samples.Add(process);
        var output = new System.Text.StringBuilder();
        _ = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            output.AppendLine(line);
            if (stop(line))
            {
                _rest[process] = process.StandardOutput.ReadToEndAsync();
                return output.ToString();
            }
        }

        throw new InvalidOperationException($"The sample exited ({(process.HasExited ? process.ExitCode : -1)}) before the line waited for:\n{output}");
    }

    private static async Task<string> RunPrintedCommandAsync(string command)
    {
        string[] words = command.Replace("</dev/null", string.Empty, StringComparison.Ordinal).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("openssl", words[0]);
        Assert.Contains("-status", words);
        ProgramResult result = await ExternalProgram.RunAsync("openssl", [.. words.Skip(1), "-verify_return_error"]);
        Assert.True(result.ExitCode == 0, result.ToString());
        return result.StandardOutput;
    }

    private static int PortOf(string output) =>
        int.Parse(Regex.Match(output, @"HTTPS with OCSP stapling on https://[^/]+:(\d+)/").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);

    private static X509Certificate2 ClientCertificate(string directory, string name) =>
        X509Certificate2.CreateFromPemFile(Path.Combine(directory, name + ".pem"), Path.Combine(directory, name + ".key"));

    /// <summary>GET / with <paramref name="client"/> (the server's certificate is the test's or the demo's: any is taken, stapling is checked by openssl).</summary>
    private static async Task<(HttpStatusCode Status, string Body)> GetWithClientCertificateAsync(int port, X509Certificate2? client)
    {
        using var handler = new SocketsHttpHandler
        {
            SslOptions = new System.Net.Security.SslClientAuthenticationOptions
            {
#pragma warning disable CA5359 // The demo's server certificate: its stapling is checked with openssl, not here.
                RemoteCertificateValidationCallback = static (_, _, _, _) => true,
#pragma warning restore CA5359
                ClientCertificates = client is null ? null : [client],
            },
        };
        using var http = new HttpClient(handler);
        using HttpResponseMessage response = await http.GetAsync(new Uri($"https://127.0.0.1:{port}/"));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>The SslStream sample's line for a connection with <paramref name="client"/>, or null when it refused the handshake.</summary>
    private static async Task<string?> RawLineAsync(int port, X509Certificate2 client)
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(System.Net.IPAddress.Loopback, port);
        await using var tls = new System.Net.Security.SslStream(tcp.GetStream());
        try
        {
            await tls.AuthenticateAsClientAsync(new System.Net.Security.SslClientAuthenticationOptions
            {
                TargetHost = "localhost",
#pragma warning disable CA5359 // As above.
                RemoteCertificateValidationCallback = static (_, _, _, _) => true,
#pragma warning restore CA5359
                ClientCertificates = [client],
            });
            using var reader = new StreamReader(tls);
            return await reader.ReadLineAsync();
        }
        catch (Exception ex) when (ex is IOException or System.Security.Authentication.AuthenticationException)
        {
            return null;
        }
    }

    /// <summary>Retries <paramref name="attempt"/> (a new connection each time) until it gives a line: the sample's responder answers in the background.</summary>
    private static Task<string> EventuallyAsync(Func<Task<string?>> attempt) =>
        Signals.WaitAsync(attempt, "the sample to accept the client certificate");

    /// <summary>Stops the sample processes this test started, by their PIDs.</summary>
    public void Dispose()
    {
        foreach (Process process in _samples)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
            }

            process.Dispose();
        }
    }
}
