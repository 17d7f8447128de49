using System.Text.RegularExpressions;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tool.Tests.Commands;

/// <summary>
/// Real servers (Debian packages) stapling what the tool gives them: nginx, HAProxy and exim read files from <c>renew</c>;
/// nginx (GET) and Apache (POST, also in HTTP-proxy form) fetch through <c>serve</c>. Each server runs with its own
/// configuration on 127.0.0.1, with a pidfile, and is stopped by that pid. <c>openssl s_client -status</c> shows the staple.
/// </summary>
public sealed class RealServerTests(ToolFixture fixture) : IClassFixture<ToolFixture>
{
    [SkippableFact]
    public async Task Nginx_SslStaplingFile_And_HaProxy_OcspFile_FromRenew_StapleIt()
    {
        Requires.Programs("nginx", "haproxy", "openssl");
        LeafFiles site = await RenewedLeafAsync("files");
        fixture.Responder.Fault = ResponderFault.Down; // whatever is stapled now came from the file

        int nginxPort = ToolFixture.FreePort();
        await using (var nginx = await ServerProcess.StartNginxAsync(site.Directory, $$"""
            server {
                listen 127.0.0.1:{{nginxPort}} ssl;
                ssl_certificate {{site.Chain}};
                ssl_certificate_key {{site.Key}};
                ssl_stapling on;
                ssl_stapling_file {{site.Ocsp}};
                location / { return 200 "ok"; }
            }
            """))
        {
            string status = await OpenSslStatusAsync(nginxPort, site); // nginx's first handshake (docs/guides/nginx.md)
            Assert.Contains("Cert Status: good", status, StringComparison.Ordinal);
            Assert.Contains($"Serial Number: {site.Certificate.SerialNumber}", status, StringComparison.Ordinal);
        }

        int haproxyPort = ToolFixture.FreePort();
        await using (var haproxy = await ServerProcess.StartHaProxyAsync(site.Directory, $"""
            frontend tls
                bind 127.0.0.1:{haproxyPort} ssl crt {site.HaProxyPem}
                http-request return status 200 content-type text/plain string ok
            """))
        {
            string status = await OpenSslStatusAsync(haproxyPort, site);
            Assert.Contains("Cert Status: good", status, StringComparison.Ordinal);
        }

        fixture.Responder.Fault = ResponderFault.None;
    }

    [SkippableFact]
    public async Task Exim_TlsOcspFile_FromRenew_StaplesIt_OnStartTls()
    {
        Requires.Programs("exim4", "openssl");
        LeafFiles site = await RenewedLeafAsync("exim");

        int port = ToolFixture.FreePort();
        await using var exim = await ServerProcess.StartEximAsync(site.Directory, port, $"""
            tls_certificate = {site.Chain}
            tls_privatekey = {site.Key}
            tls_ocsp_file = {site.Ocsp}
            """);
        string status = await OpenSslStatusAsync(port, site, ["-starttls", "smtp"]);

        Assert.True(status.Contains("Cert Status: good", StringComparison.Ordinal), $"exim did not staple:\n{status}\nexim:\n{exim.ErrorLog}");
        Assert.Contains($"Serial Number: {site.Certificate.SerialNumber}", status, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Nginx_SslStaplingResponder_ThroughServe_StaplesWhatTheProxyFetched_ByGet_AndAfterARestartWithTheResponderDown()
    {
        Requires.Programs("nginx", "openssl");
        LeafFiles site = fixture.NewLeaf("proxied");
        string cache = Path.Combine(site.Directory, "cache");
        int before = fixture.Responder.RequestCount;

        await using (ServeProcess proxy = await ServeProcess.StartAsync("--cache", cache, "--cert", site.Chain))
        {
            string status = await StapledByNginxThroughAsync(proxy, site, firstHandshakeUnstapled: true);

            Assert.Contains($"Serial Number: {site.Certificate.SerialNumber}", status, StringComparison.Ordinal);
            string log = proxy.Output;
            Assert.True(Regex.IsMatch(log, @"Request starting HTTP/1\.[01] GET http://127\.0\.0\.1(:\d+)?/M"), $"nginx did not ask by GET:\n{log}"); // RFC 6960 A.1
            Assert.DoesNotContain("Request starting HTTP/1.0 POST", log, StringComparison.Ordinal);
            Assert.DoesNotContain("Request starting HTTP/1.1 POST", log, StringComparison.Ordinal);
            Assert.Equal(before + 1, fixture.Responder.RequestCount); // one upstream fetch, by the proxy
            Assert.True(await proxy.StopAsync() == 0, $"serve did not stop cleanly on SIGTERM:\n{proxy.Output}");
        }

        // A new proxy on the same cache directory, the responder gone: nginx still gets a good staple, from the persisted response.
        fixture.Responder.Fault = ResponderFault.Down;
        try
        {
            await using ServeProcess restarted = await ServeProcess.StartAsync("--cache", cache, "--cert", site.Chain);
            string status = await StapledByNginxThroughAsync(restarted, site);

            Assert.Contains($"Serial Number: {site.Certificate.SerialNumber}", status, StringComparison.Ordinal);
            Assert.Equal(before + 1, fixture.Responder.RequestCount);
        }
        finally
        {
            fixture.Responder.Fault = ResponderFault.None;
        }
    }

    [SkippableTheory]
    [InlineData("SSLStaplingForceURL")] // Apache asks the proxy as its responder
    [InlineData("SSLOCSPProxyURL")] // Apache asks the certificate's responder through the proxy ("POST http://responder/ocsp"), the seed's setup
    public async Task Apache_ThroughServe_StaplesWhatTheProxyFetched_ByPost(string directive)
    {
        Requires.Programs("apache2", "openssl");
        LeafFiles site = fixture.NewLeaf("apache");
        int before = fixture.Responder.RequestCount;
        await using ServeProcess proxy = await ServeProcess.StartAsync("--cache", Path.Combine(site.Directory, "cache"), "--cert", site.Chain);

        int apachePort = ToolFixture.FreePort();
        await using var apache = await ServerProcess.StartApacheAsync(site.Directory, $"""
            Listen 127.0.0.1:{apachePort}
            <VirtualHost 127.0.0.1:{apachePort}>
                SSLEngine on
                SSLCertificateFile {site.Chain}
                SSLCertificateKeyFile {site.Key}
                SSLUseStapling on
                {directive} {proxy.Url}
                SSLStaplingReturnResponderErrors off
            </VirtualHost>
            """);

        string status = await HandshakeUntilStapledAsync(apachePort, site, () => $"proxy:\n{proxy.Output}\napache:\n{apache.ErrorLog}");
        Assert.Contains($"Serial Number: {site.Certificate.SerialNumber}", status, StringComparison.Ordinal);
        string expected = directive == "SSLOCSPProxyURL" ? $"POST {fixture.Responder.Url} - application/ocsp-request" : "POST http://127.0.0.1";
        Assert.True(proxy.Output.Contains(expected, StringComparison.Ordinal), $"apache did not ask as expected ({expected}):\n{proxy.Output}");
        Assert.Equal(before + 1, fixture.Responder.RequestCount);
    }

    [SkippableFact]
    public async Task Apache_SslOcspProxyUrl_TwoVirtualHosts_ServeWithCaOnly_BothStapled_OneUpstreamRequestEach()
    {
        Requires.Programs("apache2", "openssl");
        LeafFiles one = fixture.NewLeaf("vhost-one");
        LeafFiles two = fixture.NewLeaf("vhost-two");
        int before = fixture.Responder.RequestCount;

        // The ocsp_proxy set-up: one proxy for the whole server, nothing listed but the CA and its responder.
        await using ServeProcess proxy = await ServeProcess.StartAsync(
            "--cache", Path.Combine(one.Directory, "cache"), "--ca", fixture.IssuerFile, "--allow-responder", fixture.Responder.Url.AbsoluteUri);
        int portOne = ToolFixture.FreePort();
        int portTwo = ToolFixture.FreePort();
        await using var apache = await ServerProcess.StartApacheAsync(one.Directory, $"""
            Listen 127.0.0.1:{portOne}
            Listen 127.0.0.1:{portTwo}
            SSLOCSPProxyURL {proxy.Url}
            <VirtualHost 127.0.0.1:{portOne}>
                SSLEngine on
                SSLCertificateFile {one.Chain}
                SSLCertificateKeyFile {one.Key}
                SSLUseStapling on
                SSLStaplingReturnResponderErrors off
            </VirtualHost>
            <VirtualHost 127.0.0.1:{portTwo}>
                SSLEngine on
                SSLCertificateFile {two.Chain}
                SSLCertificateKeyFile {two.Key}
                SSLUseStapling on
                SSLStaplingReturnResponderErrors off
            </VirtualHost>
            """);

        string statusOne = await HandshakeUntilStapledAsync(portOne, one, () => $"proxy:\n{proxy.Output}\napache:\n{apache.ErrorLog}");
        string statusTwo = await HandshakeUntilStapledAsync(portTwo, two, () => $"proxy:\n{proxy.Output}\napache:\n{apache.ErrorLog}");
        for (int i = 0; i < 3; i++)
        {
            await HandshakeUntilStapledAsync(portOne, one, () => proxy.Output);
            await HandshakeUntilStapledAsync(portTwo, two, () => proxy.Output);
        }

        Assert.Contains($"Serial Number: {one.Certificate.SerialNumber}", statusOne, StringComparison.Ordinal);
        Assert.Contains($"Serial Number: {two.Certificate.SerialNumber}", statusTwo, StringComparison.Ordinal);
        Assert.True(fixture.Responder.RequestCount == before + 2, $"{fixture.Responder.RequestCount - before} upstream requests for 2 certificates:\n{proxy.Output}");
        Assert.Equal(2, Regex.Count(proxy.Output, "OCSP proxy caches CertID"));
    }

    /// <summary>A new leaf whose response file (<see cref="LeafFiles.Ocsp"/>) <c>ocsp-stapling renew</c> has just written.</summary>
    private async Task<LeafFiles> RenewedLeafAsync(string name)
    {
        LeafFiles site = fixture.NewLeaf(name);
        string config = Path.Combine(site.Directory, "stapling.json");
        await File.WriteAllTextAsync(config, $$"""{ "certificates": [ { "cert": "{{site.Chain}}", "output": "{{site.Ocsp}}" } ] }""");
        ProgramResult renew = await ToolFixture.RunToolAsync("renew", "--config", config);
        Assert.True(renew.ExitCode == 1, renew.ToString());
        return site;
    }

    /// <summary>
    /// Starts nginx with <c>ssl_stapling_responder</c> pointing at <paramref name="proxy"/> and handshakes until it staples.
    /// With <paramref name="firstHandshakeUnstapled"/>, asserts what docs/guides/nginx.md says: nginx asks its responder only
    /// once a handshake needs a staple, so its first handshake carries none even with the proxy's cache warm.
    /// </summary>
    private async Task<string> StapledByNginxThroughAsync(ServeProcess proxy, LeafFiles site, bool firstHandshakeUnstapled = false)
    {
        int nginxPort = ToolFixture.FreePort();
        await using var nginx = await ServerProcess.StartNginxAsync(site.Directory, $$"""
            server {
                listen 127.0.0.1:{{nginxPort}} ssl;
                ssl_certificate {{site.Chain}};
                ssl_certificate_key {{site.Key}};
                ssl_stapling on;
                ssl_stapling_verify on;
                ssl_trusted_certificate {{fixture.RootFile}};
                ssl_stapling_responder {{proxy.Url}};
                location / { return 200 "ok"; }
            }
            """);

        if (firstHandshakeUnstapled)
        {
            string first = await OpenSslStatusAsync(nginxPort, site);
            Assert.Contains("OCSP response: no response sent", first, StringComparison.Ordinal);
        }

        return await HandshakeUntilStapledAsync(nginxPort, site, () => $"proxy:\n{proxy.Output}\nnginx:\n{nginx.ErrorLog}");
    }

    /// <summary>
    /// Handshakes until the server staples a good response: a server fetching through the proxy may staple only from a
    /// later handshake (nginx fetches in the background). Returns the <c>openssl s_client -status</c> output.
    /// </summary>
    private async Task<string> HandshakeUntilStapledAsync(int port, LeafFiles site, Func<string> diagnostics)
    {
        string status = "";
        return await Signals.WaitAsync(
            async () =>
            {
                status = await OpenSslStatusAsync(port, site);
                return status.Contains("Cert Status: good", StringComparison.Ordinal) ? status : null;
            },
            $"a good staple on 127.0.0.1:{port}",
            diagnostics: () => $"{status}\n{diagnostics()}");
    }

    private async Task<string> OpenSslStatusAsync(int port, LeafFiles site, string[]? extra = null)
    {
        ProgramResult result = await ExternalProgram.RunAsync(
            "openssl",
            ["s_client", "-connect", $"127.0.0.1:{port}", "-servername", site.Certificate.GetNameInfo(System.Security.Cryptography.X509Certificates.X509NameType.DnsName, false), "-status", "-CAfile", fixture.RootFile, "-verify_return_error", .. extra ?? []],
            timeout: TimeSpan.FromSeconds(30),
            standardInput: []);
        Assert.True(result.ExitCode == 0, result.ToString());
        return result.StandardOutput;
    }
}
