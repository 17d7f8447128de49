using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tool.Tests;

/// <summary><c>serve</c>'s refusals: each bad start exits with its documented code and says why, before listening.</summary>
public sealed class ServeTests(ToolFixture fixture) : IClassFixture<ToolFixture>
{
    [Fact]
    public async Task Serve_CertificateWithoutAia_UsesTheFirstAllowedResponder_OrRefusesToStart()
    {
        X509Certificate2 leaf = fixture.Pki.IssueLeaf("no-aia.test", ocspUrl: null);
        string leafFile = Path.Combine(fixture.Directory, "no-aia.pem");
        await File.WriteAllTextAsync(leafFile, TestPki.ToPem(leaf));

        ProgramResult refused = await ToolFixture.RunToolAsync("serve", "--cert", leafFile, "--issuer", fixture.IssuerFile);
        Assert.True(refused.ExitCode == 65, refused.ToString());
        Assert.Contains("has no OCSP responder URL (AIA): give its responder with --allow-responder", refused.StandardError, StringComparison.Ordinal);

        await using ServeProcess proxy = await ServeProcess.StartAsync(
            "--cache", Path.Combine(fixture.Directory, "no-aia-cache"), "--cert", leafFile, "--issuer", fixture.IssuerFile, "--allow-responder", fixture.Responder.Url.AbsoluteUri);
        using var client = new HttpClient();
        using var content = new ByteArrayContent(OcspRequest.Create(leaf, fixture.Pki.Intermediate).Encoded.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/ocsp-request");
        using HttpResponseMessage response = await client.PostAsync(proxy.Url, content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        OcspValidationResult validation = OcspResponseValidator.Validate(
            await response.Content.ReadAsByteArrayAsync(), leaf, fixture.Pki.Intermediate, TimeProvider.System.GetUtcNow());
        Assert.True(validation.IsValid, $"{validation.Message}\n{proxy.Output}");
        Assert.Equal(OcspCertificateStatus.Good, validation.Staple!.Status);
    }

    [Fact]
    public async Task Serve_BadStarts_ExitWithTheirCodes_AndSayWhy()
    {
        using var occupied = new TcpListener(IPAddress.Loopback, 0);
        occupied.Start();
        int port = ((IPEndPoint)occupied.LocalEndpoint).Port;

        ProgramResult nothing = await ToolFixture.RunToolAsync("serve");
        ProgramResult badUrl = await ToolFixture.RunToolAsync("serve", "--allow-responder", "ftp://ocsp.example/");
        ProgramResult missing = await ToolFixture.RunToolAsync("serve", "--cert", "/nonexistent/leaf.pem");
        ProgramResult issuers = await ToolFixture.RunToolAsync("serve", "--allow-responder", "http://ocsp.example/", "--issuer", "/nonexistent/ca.pem");
        ProgramResult inUse = await ToolFixture.RunToolAsync("serve", "--urls", $"http://127.0.0.1:{port}", "--allow-responder", "http://ocsp.example/");

        Assert.True(nothing.ExitCode == 64, nothing.ToString());
        Assert.Contains("Nothing to proxy", nothing.StandardError, StringComparison.Ordinal);
        Assert.True(badUrl.ExitCode == 64, badUrl.ToString());
        Assert.Contains("not an absolute http(s) URL", badUrl.StandardError, StringComparison.Ordinal);
        Assert.True(missing.ExitCode == 66, missing.ToString());
        Assert.Contains("no such file", missing.StandardError, StringComparison.Ordinal);
        Assert.True(issuers.ExitCode == 64, issuers.ToString());
        Assert.Contains("one --issuer per --cert", issuers.StandardError, StringComparison.Ordinal);
        Assert.True(inUse.ExitCode == 73, inUse.ToString());
        Assert.Contains($"Cannot listen on http://127.0.0.1:{port}", inUse.StandardError, StringComparison.Ordinal);
    }
}
