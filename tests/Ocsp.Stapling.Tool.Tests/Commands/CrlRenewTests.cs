using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Ocsp.Stapling.Internal;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tool.Tests.Commands;

/// <summary>
/// <c>renew</c> keeping CRL files (issue 42.2) for a CA run with <c>openssl ca</c>, its CRL served over HTTP: only a
/// validated CRL newer than the file's replaces it (PEM, atomically), with the exit codes of response files; nginx
/// (<c>ssl_crl</c>) refuses a revoked client certificate after its reload, and HAProxy 2.6 (<c>crl-file</c>) after a push
/// through its runtime API, with the same PID.
/// </summary>
public sealed class CrlRenewTests(ToolFixture fixture) : IClassFixture<ToolFixture>, IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ocsp-crl-renew-").FullName;
    private TestCrlServer _server = null!;

    public async Task InitializeAsync() => _server = await TestCrlServer.StartAsync();

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [SkippableFact]
    public async Task Renew_WritesTheCrlFile_KeepsItUntilANewerOne_RefusesOlderGarbageAndOutages_LeavingTheFile()
    {
        Requires.Programs("openssl");
        OpenSslCa ca = await OpenSslCa.CreateAsync(Path.Combine(_directory, "ca"), _server.Url);
        byte[] first = await ca.GenerateCrlAsync();
        _server.Crl = first;
        string output = Path.Combine(_directory, "client-ca.crl.pem");
        string config = await ConfigAsync(ca, output);

        ProgramResult written = await ToolFixture.RunToolAsync("renew", "--config", config);
        ProgramResult kept = await ToolFixture.RunToolAsync("renew", "--config", config);

        Assert.True(written.ExitCode == 1, written.ToString()); // one file changed: reload the server
        Assert.Contains("renewed (CRL number 1, 0 entries", written.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(new System.Numerics.BigInteger(1), ReadFile(output).Number);
        Assert.StartsWith("-----BEGIN X509 CRL-----", await File.ReadAllTextAsync(output), StringComparison.Ordinal);
        Assert.True(kept.ExitCode == 0, kept.ToString());
        Assert.Contains("kept (CRL number 1", kept.StandardOutput, StringComparison.Ordinal);

        await ca.IssueClientAsync("gone");
        await ca.RevokeAsync("gone");
        _server.Crl = await ca.GenerateCrlAsync();
        ProgramResult newer = await ToolFixture.RunToolAsync("renew", "--config", config);
        Assert.True(newer.ExitCode == 1, newer.ToString());
        Assert.Contains("renewed (CRL number 2, 1 entries", newer.StandardOutput, StringComparison.Ordinal);

        string installed = await File.ReadAllTextAsync(output);
        foreach ((Action serve, string reason) in new (Action, string)[]
        {
            (() => _server.Crl = first, "lower than the held CRL's 2"),
            (() => _server.Crl = "<html>gone</html>"u8.ToArray(), "Not a DER CRL"),
            (() => _server.Down = true, "503"),
        })
        {
            serve();
            ProgramResult refused = await ToolFixture.RunToolAsync("renew", "--config", config);
            Assert.True(refused.ExitCode == 69, refused.ToString());
            Assert.Contains(reason, refused.StandardError, StringComparison.Ordinal);
            Assert.Contains("the existing file is left as it was", refused.StandardError, StringComparison.Ordinal);
            Assert.Equal(installed, await File.ReadAllTextAsync(output));
        }
    }

    [SkippableFact]
    public async Task Nginx_SslCrl_FromRenew_RefusesTheRevokedClientAfterItsReload()
    {
        Requires.Programs("nginx", "openssl");
        LeafFiles site = fixture.NewLeaf("crl-nginx");
        OpenSslCa ca = await OpenSslCa.CreateAsync(Path.Combine(_directory, "ca"), _server.Url);
        await ca.IssueClientAsync("good");
        await ca.IssueClientAsync("revoked");
        _server.Crl = await ca.GenerateCrlAsync();
        string crlFile = Path.Combine(_directory, "nginx-crl.pem");
        string config = await ConfigAsync(ca, crlFile);
        Assert.Equal(1, (await ToolFixture.RunToolAsync("renew", "--config", config)).ExitCode);

        int port = ToolFixture.FreePort();
        await using ServerProcess nginx = await ServerProcess.StartNginxAsync(site.Directory, $$"""
            server {
                listen 127.0.0.1:{{port}} ssl;
                ssl_certificate {{site.Chain}};
                ssl_certificate_key {{site.Key}};
                ssl_client_certificate {{ca.CertificateFile}};
                ssl_verify_client on;
                ssl_crl {{crlFile}};
                location / { return 200 "ok"; }
            }
            """);
        Assert.True(await AcceptedAsync(port, site, ca, "revoked"), nginx.ErrorLog); // not revoked yet

        await ca.RevokeAsync("revoked");
        _server.Crl = await ca.GenerateCrlAsync();
        ProgramResult renewed = await ToolFixture.RunToolAsync("renew", "--config", config);
        Assert.True(renewed.ExitCode == 1, renewed.ToString()); // one file to reload
        await ExternalProgram.RunAsync("kill", ["-HUP", nginx.Pid.ToString(CultureInfo.InvariantCulture)]);

        await Signals.WaitAsync<object>(
            async () => await AcceptedAsync(port, site, ca, "revoked") ? null : true, "nginx to refuse the revoked client after its reload", diagnostics: () => nginx.ErrorLog);
        Assert.True(await AcceptedAsync(port, site, ca, "good"));
    }

    [SkippableFact]
    public async Task HaProxy_CrlFile_PushedThroughItsRuntimeApi_RefusesTheRevokedClient_SamePid()
    {
        Requires.Programs("haproxy", "openssl");
        LeafFiles site = fixture.NewLeaf("crl-haproxy");
        OpenSslCa ca = await OpenSslCa.CreateAsync(Path.Combine(_directory, "ca"), _server.Url);
        await ca.IssueClientAsync("good");
        await ca.IssueClientAsync("revoked");
        _server.Crl = await ca.GenerateCrlAsync();
        string crlFile = Path.Combine(_directory, "haproxy-crl.pem");
        string socket = Path.Combine(_directory, "admin.sock");
        string config = await ConfigAsync(ca, crlFile, socket);
        int port = ToolFixture.FreePort();

        // The first file before HAProxy starts (it loads its crl-file then; the push needs it loaded).
        ProgramResult initial = await ToolFixture.RunToolAsync("renew", "--config", await ConfigAsync(ca, crlFile));
        Assert.True(initial.ExitCode == 1, initial.ToString());
        await using ServerProcess haproxy = await ServerProcess.StartHaProxyAsync(
            site.Directory,
            $"""
            frontend tls
                bind 127.0.0.1:{port} ssl crt {site.HaProxyPem} ca-file {ca.CertificateFile} verify required crl-file {crlFile}
                http-request return status 200 content-type text/plain string ok
            """,
            $"stats socket {socket} level admin");
        int pid = haproxy.Pid;
        Assert.True(await AcceptedAsync(port, site, ca, "revoked"), haproxy.ErrorLog);

        await ca.RevokeAsync("revoked");
        _server.Crl = await ca.GenerateCrlAsync();
        ProgramResult pushed = await ToolFixture.RunToolAsync("renew", "--config", config);

        Assert.True(pushed.ExitCode == 0, pushed.ToString()); // pushed: nothing to reload
        Assert.Contains("pushed to HAProxy", pushed.StandardOutput, StringComparison.Ordinal);
        Assert.False(await AcceptedAsync(port, site, ca, "revoked"));
        Assert.True(await AcceptedAsync(port, site, ca, "good"));
        Assert.Equal(pid, haproxy.Pid);
        Assert.True(Directory.Exists($"/proc/{pid}")); // the same process, no reload
    }

    private async Task<string> ConfigAsync(OpenSslCa ca, string output, string? socket = null)
    {
        string config = Path.Combine(_directory, $"renew-{Guid.NewGuid():N}.json");
        object entry = socket is null
            ? new { ca = ca.CertificateFile, url = _server.Url.AbsoluteUri, output }
            : new Dictionary<string, string> { ["ca"] = ca.CertificateFile, ["url"] = _server.Url.AbsoluteUri, ["output"] = output, ["haproxy-socket"] = socket };
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new { crls = new[] { entry } }));
        return config;
    }

    private static ParsedCrl ReadFile(string path)
    {
        string text = File.ReadAllText(path);
        return ParsedCrl.Parse(Convert.FromBase64String(text[System.Security.Cryptography.PemEncoding.Find(text).Base64Data]));
    }

    /// <summary>Whether a request with the client certificate <paramref name="name"/> of <paramref name="ca"/> gets the server's 200.</summary>
    private async Task<bool> AcceptedAsync(int port, LeafFiles site, OpenSslCa ca, string name)
    {
        ProgramResult result = await ExternalProgram.RunAsync(
            "openssl",
            [
                "s_client", "-connect", $"127.0.0.1:{port}", "-servername", site.Certificate.GetNameInfo(X509NameType.DnsName, false), "-CAfile", fixture.RootFile,
                "-cert", Path.Combine(ca.Directory, name + ".pem"), "-key", Path.Combine(ca.Directory, name + ".key"), "-quiet", "-ign_eof",
            ],
            standardInput: "GET / HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n"u8.ToArray(),
            timeout: TimeSpan.FromSeconds(30));
        return result.StandardOutput.Contains("200", StringComparison.Ordinal) && result.StandardOutput.Contains("ok", StringComparison.Ordinal);
    }
}
