using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tool.Tests;

/// <summary>
/// nginx and HAProxy (Debian packages) stapling what the tool gives them: files from <c>renew</c>, and responses fetched
/// by nginx itself through <c>serve</c> (nginx uses GET). Each server runs with its own configuration on 127.0.0.1, with a
/// pidfile, and is stopped by that pid. <c>openssl s_client -status</c> shows the staple.
/// </summary>
public sealed class RealServerTests(ToolFixture fixture) : IClassFixture<ToolFixture>
{
    [SkippableFact]
    public async Task Nginx_SslStaplingFile_And_HaProxy_OcspFile_FromRenew_StapleIt()
    {
        Skip.If(ExternalProgram.Find("nginx") is null || ExternalProgram.Find("haproxy") is null || ExternalProgram.Find("openssl") is null,
            "nginx, haproxy or openssl is not installed (.ci/run installs them)");
        LeafFiles site = fixture.NewLeaf("files");
        string config = Path.Combine(site.Directory, "stapling.json");
        await File.WriteAllTextAsync(config, $$"""{ "certificates": [ { "cert": "{{site.Chain}}", "output": "{{site.Ocsp}}" } ] }""");
        ProgramResult renew = await ToolFixture.RunToolAsync("renew", "--config", config);
        Assert.True(renew.ExitCode == 1, renew.ToString());
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
            string status = await OpenSslStatusAsync(nginxPort, site);
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

    private async Task<string> OpenSslStatusAsync(int port, LeafFiles site)
    {
        ProgramResult result = await ExternalProgram.RunAsync(
            "openssl",
            ["s_client", "-connect", $"127.0.0.1:{port}", "-servername", site.Certificate.GetNameInfo(System.Security.Cryptography.X509Certificates.X509NameType.DnsName, false), "-status", "-CAfile", fixture.RootFile, "-verify_return_error"],
            timeout: TimeSpan.FromSeconds(30),
            standardInput: []);
        Assert.True(result.ExitCode == 0, result.ToString());
        return result.StandardOutput;
    }
}
