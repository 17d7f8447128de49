using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tool.Tests.Output;

/// <summary>
/// HAProxy without reload (issue 29, item 2): <c>renew</c> and <c>fetch</c> push a validated response into a running
/// HAProxy 2.6 through its stats socket (<c>set ssl ocsp-response</c>); the next handshake carries it, the process is
/// the same, and a push HAProxy refuses is reported with its own exit code, the file written.
/// </summary>
public sealed class HaProxyPushTests(ToolFixture fixture) : IClassFixture<ToolFixture>
{
    [SkippableFact]
    public async Task Renew_WithHaProxySocket_NewResponseStapledByTheSameProcess_NoReloadNeeded_ShowSslOcspResponseNamesIt()
    {
        Requires.Programs("haproxy", "openssl");
        LeafFiles site = fixture.NewLeaf("haproxy-push");
        DateTimeOffset older = WriteOlderResponse(site);
        string socket = Path.Combine(site.Directory, "admin.sock");
        int port = ToolFixture.FreePort();
        await using ServerProcess haproxy = await ServerProcess.StartHaProxyAsync(site.Directory, Frontend(port, site), $"stats socket {socket} level admin");
        int pid = haproxy.Pid;
        Assert.Contains($"This Update: {OpenSslTime(older)}", await OpenSslStatusAsync(port, site), StringComparison.Ordinal);

        string config = Path.Combine(site.Directory, "renew.json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["minimum-validity"] = "3d", // the older response has an hour left: renewed
            ["certificates"] = new[] { new { cert = site.Chain, output = site.Ocsp } },
        }));
        ProgramResult renewed = await ToolFixture.RunToolAsync("renew", "--config", config, "--haproxy-socket", socket);

        Assert.True(renewed.ExitCode == 0, renewed.ToString()); // changed, pushed: nothing to reload
        Assert.Contains($"pushed to HAProxy at {socket}, no reload needed", renewed.StandardOutput, StringComparison.Ordinal);
        OcspValidationResult written = OcspResponseValidator.Validate(await File.ReadAllBytesAsync(site.Ocsp), site.Certificate, fixture.Pki.Intermediate, TimeProvider.System.GetUtcNow());
        Assert.True(written.IsValid && written.Staple.ThisUpdate > older, written.Message);

        string status = await OpenSslStatusAsync(port, site);
        Assert.Contains($"This Update: {OpenSslTime(written.Staple.ThisUpdate)}", status, StringComparison.Ordinal);
        Assert.Equal(pid, haproxy.Pid);
        Assert.True(Directory.Exists($"/proc/{pid}"), "HAProxy is not running any more");
        string shown = await AskAsync(socket, "show ssl ocsp-response");
        Assert.Contains(OcspCertificateId.Create(site.Certificate, fixture.Pki.Intermediate).SerialNumberHex, shown.Replace(":", "", StringComparison.Ordinal).ToUpperInvariant(), StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Push_ThatHaProxyRefuses_Exit75_FileWritten_ReloadNeededIsSaid_FetchAndRenew()
    {
        Requires.Programs("haproxy");
        LeafFiles loaded = fixture.NewLeaf("haproxy-loaded");
        WriteOlderResponse(loaded);
        LeafFiles unknown = fixture.NewLeaf("haproxy-unknown"); // not loaded by HAProxy: its CertID is unknown there
        string socket = Path.Combine(loaded.Directory, "admin.sock");
        await using ServerProcess haproxy = await ServerProcess.StartHaProxyAsync(loaded.Directory, Frontend(ToolFixture.FreePort(), loaded), $"stats socket {socket} level admin");

        ProgramResult fetched = await ToolFixture.RunToolAsync("fetch", "--cert", unknown.Chain, "--out", unknown.Ocsp, "--haproxy-socket", socket);
        Assert.True(fetched.ExitCode == 75, fetched.ToString());
        Assert.True(File.Exists(unknown.Ocsp));
        Assert.Contains("not pushed (HAProxy at", fetched.StandardError, StringComparison.Ordinal);
        Assert.Contains("reload HAProxy to load it", fetched.StandardError, StringComparison.Ordinal);

        string config = Path.Combine(unknown.Directory, "renew.json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["minimum-validity"] = "3650d",
            ["certificates"] = new object[]
            {
                new Dictionary<string, string> { ["cert"] = unknown.Chain, ["output"] = unknown.Ocsp, ["haproxy-socket"] = socket },
                new Dictionary<string, string> { ["cert"] = loaded.Chain, ["output"] = loaded.Ocsp, ["haproxy-socket"] = socket },
            },
        }));
        ProgramResult renewed = await ToolFixture.RunToolAsync("renew", "--config", config);
        Assert.True(renewed.ExitCode == 75, renewed.ToString());
        Assert.Contains($"{loaded.Ocsp}: renewed", renewed.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("pushed to HAProxy", renewed.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"{unknown.Ocsp}: renewed", renewed.StandardError, StringComparison.Ordinal);

        ProgramResult nobody = await ToolFixture.RunToolAsync("fetch", "--cert", loaded.Chain, "--out", loaded.Ocsp, "--haproxy-socket", Path.Combine(loaded.Directory, "no-such.sock"));
        Assert.True(nobody.ExitCode == 75, nobody.ToString());
        Assert.Contains("cannot reach HAProxy", nobody.StandardError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("admin.sock")]
    [InlineData("")]
    [InlineData("host:port")]
    public async Task BadSocket_Exit64(string socket)
    {
        LeafFiles site = fixture.NewLeaf("bad-socket");
        ProgramResult result = await ToolFixture.RunToolAsync("fetch", "--cert", site.Chain, "--haproxy-socket", socket);

        Assert.True(result.ExitCode == 64, result.ToString());
    }

    /// <summary>A valid, good response an hour old with an hour left, as the <c>.ocsp</c> file HAProxy loads at start.</summary>
    private DateTimeOffset WriteOlderResponse(LeafFiles site)
    {
        DateTimeOffset thisUpdate = TimeProvider.System.GetUtcNow().AddHours(-1);
        thisUpdate = thisUpdate.AddTicks(-(thisUpdate.UtcTicks % TimeSpan.TicksPerSecond));
        var builder = new OcspResponseBuilder(OcspCertificateId.Create(site.Certificate, fixture.Pki.Intermediate), fixture.Pki.Intermediate, thisUpdate)
        {
            NextUpdate = thisUpdate.AddHours(2),
        };
        File.WriteAllBytes(site.Ocsp, builder.Build());
        return thisUpdate;
    }

    private static string Frontend(int port, LeafFiles site) => $"""
        frontend tls
            bind 127.0.0.1:{port} ssl crt {site.HaProxyPem}
            http-request return status 200 content-type text/plain string ok
        """;

    /// <summary>A time as <c>openssl s_client -status</c> prints it: <c>Dec  2 21:00:00 2026 GMT</c>.</summary>
    private static string OpenSslTime(DateTimeOffset time) =>
        string.Create(CultureInfo.InvariantCulture, $"{time.UtcDateTime:MMM} {time.UtcDateTime.Day,2} {time.UtcDateTime:HH:mm:ss yyyy} GMT");

    private static async Task<string> AskAsync(string socket, string command)
    {
        using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await client.ConnectAsync(new UnixDomainSocketEndPoint(socket));
        await client.SendAsync(Encoding.ASCII.GetBytes(command + "\n"), SocketFlags.None);
        var answer = new StringBuilder();
        byte[] buffer = new byte[8192];
        int read;
        while ((read = await client.ReceiveAsync(buffer, SocketFlags.None)) > 0)
        {
            answer.Append(Encoding.UTF8.GetString(buffer, 0, read));
        }

        return answer.ToString();
    }

    private async Task<string> OpenSslStatusAsync(int port, LeafFiles site)
    {
        ProgramResult result = await ExternalProgram.RunAsync(
            "openssl",
            ["s_client", "-connect", $"127.0.0.1:{port}", "-servername", site.Certificate.GetNameInfo(System.Security.Cryptography.X509Certificates.X509NameType.DnsName, false), "-status", "-CAfile", fixture.RootFile],
            timeout: TimeSpan.FromSeconds(30),
            standardInput: []);
        Assert.True(result.ExitCode == 0, result.ToString());
        return result.StandardOutput;
    }
}
