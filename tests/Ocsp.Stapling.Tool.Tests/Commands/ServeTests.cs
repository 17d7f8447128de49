using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tool.Tests.Commands;

/// <summary><c>serve</c> as a process: <c>--ca</c> caching (the ocsp_proxy drop-in), and its refusals: each bad start exits with its documented code and says why, before listening.</summary>
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

    [SkippableFact]
    public async Task Serve_Ca_NothingListed_OpenSsl_ThreeCallsOneUpstream_SecondServeNone_RestartWithTheResponderDownStillGood()
    {
        Requires.Programs("openssl");
        LeafFiles site = fixture.NewLeaf("ca-serve");
        string cache = Path.Combine(site.Directory, "cache");
        string[] arguments = ["--cache", cache, "--ca", fixture.IssuerFile, "--allow-responder", fixture.Responder.Url.AbsoluteUri];
        int before = fixture.Responder.RequestCount;

        await using (ServeProcess first = await ServeProcess.StartAsync(arguments))
        {
            for (int i = 0; i < 3; i++)
            {
                await AssertGoodThroughAsync(first, site);
            }

            Assert.True(fixture.Responder.RequestCount == before + 1, $"3 calls, {fixture.Responder.RequestCount - before} upstream requests:\n{first.Output}");
            Assert.Contains("every certificate of 1 CA(s) its responder vouches for, from its first request", first.Output, StringComparison.Ordinal);
            Assert.Contains("(forgotten after 7d unasked, at most 10000 per CA; unknown answers kept 10m)", first.Output, StringComparison.Ordinal); // durations as written

            await using ServeProcess second = await ServeProcess.StartAsync(arguments);
            await AssertGoodThroughAsync(second, site);
            Assert.True(fixture.Responder.RequestCount == before + 1, $"the second serve went upstream:\n{second.Output}");
        }

        fixture.Responder.Fault = ResponderFault.Down;
        try
        {
            await using ServeProcess restarted = await ServeProcess.StartAsync(arguments);
            await AssertGoodThroughAsync(restarted, site);
            Assert.Equal(before + 1, fixture.Responder.RequestCount);
        }
        finally
        {
            fixture.Responder.Fault = ResponderFault.None;
        }
    }

    [Fact]
    public async Task Serve_Ca_BadStarts_ExitWithTheirCodes_AndSayWhy()
    {
        LeafFiles site = fixture.NewLeaf("ca-refused");
        string responder = fixture.Responder.Url.AbsoluteUri;

        ProgramResult missing = await ToolFixture.RunToolAsync("serve", "--ca", "/nonexistent/ca.pem", "--allow-responder", responder);
        ProgramResult notCa = await ToolFixture.RunToolAsync("serve", "--ca", site.Leaf, "--allow-responder", responder);
        ProgramResult noResponder = await ToolFixture.RunToolAsync("serve", "--ca", fixture.IssuerFile);
        ProgramResult badDuration = await ToolFixture.RunToolAsync("serve", "--ca", fixture.IssuerFile, "--allow-responder", responder, "--forget-after", "soon");
        ProgramResult badCap = await ToolFixture.RunToolAsync("serve", "--ca", fixture.IssuerFile, "--allow-responder", responder, "--max-cached-per-ca", "0");

        Assert.True(missing.ExitCode == 66, missing.ToString());
        Assert.Contains("no such file", missing.StandardError, StringComparison.Ordinal);
        Assert.True(notCa.ExitCode == 65, notCa.ToString());
        Assert.Contains("holds no CA certificate", notCa.StandardError, StringComparison.Ordinal);
        Assert.True(noResponder.ExitCode == 64, noResponder.ToString());
        Assert.Contains("--ca: ", noResponder.StandardError, StringComparison.Ordinal);
        Assert.Contains("has no responder to ask", noResponder.StandardError, StringComparison.Ordinal);
        Assert.True(badDuration.ExitCode == 64, badDuration.ToString());
        Assert.Contains("--forget-after 'soon' is not a duration", badDuration.StandardError, StringComparison.Ordinal);
        Assert.True(badCap.ExitCode == 64, badCap.ToString());
        Assert.Contains("--max-cached-per-ca: The field OcspProxyOptions.Cache.MaxCertificatesPerAuthority must be between 1 and", badCap.StandardError, StringComparison.Ordinal);
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
        Assert.DoesNotContain("Hosting failed to start", inUse.StandardOutput + inUse.StandardError, StringComparison.Ordinal); // one line, the stack trace at Debug only
        Assert.DoesNotContain("   at ", inUse.StandardOutput + inUse.StandardError, StringComparison.Ordinal);
    }

    /// <summary><c>openssl ocsp</c> through the proxy, <c>Host</c> naming the responder (the seed's convention): a verified good answer.</summary>
    [SkippableFact]
    public async Task Serve_Backend_FrontsTheCasResponderUnderItsName_FirstBackendDown_OpenSslAndGets_OneUpstreamRequest()
    {
        Requires.Programs("openssl");
        LeafFiles site = fixture.NewLeaf("front-serve");
        int down = ToolFixture.FreePort(); // nothing listens there: the first backend is down
        int before = fixture.Responder.RequestCount;
        await using ServeProcess front = await ServeProcess.StartAsync(
            "--cache", Path.Combine(site.Directory, "cache"), "--ca", fixture.IssuerFile,
            "--backend", $"http://ocsp.ca.example/=http://127.0.0.1:{down}/ocsp",
            "--backend", $"http://ocsp.ca.example/={fixture.Responder.Url.AbsoluteUri}");
        Assert.Contains($"fronting http://ocsp.ca.example/ -> http://127.0.0.1:{down}/ocsp, {fixture.Responder.Url.AbsoluteUri}", front.Output, StringComparison.Ordinal);

        // openssl ocsp as a client whose AIA names the public URL (the request goes to the front, Host the public name).
        for (int i = 0; i < 3; i++)
        {
            ProgramResult result = await ExternalProgram.RunAsync(
                "openssl",
                ["ocsp", "-issuer", fixture.IssuerFile, "-cert", site.Leaf, "-url", front.Url.AbsoluteUri, "-CAfile", fixture.RootFile, "-no_nonce", "-timeout", "20",
                    "-header", "Host=ocsp.ca.example"],
                timeout: TimeSpan.FromSeconds(30));
            string output = result.StandardOutput + result.StandardError;
            Assert.True(result.ExitCode == 0 && output.Contains("Response verify OK", StringComparison.Ordinal) && output.Contains(": good", StringComparison.Ordinal),
                $"openssl ocsp through the front:\n{result}\nserve:\n{front.Output}");
        }

        // GETs, with no-cache, and one over RFC 5019's size.
        using var client = new HttpClient();
        byte[] der = OcspRequest.Create(site.Certificate, fixture.Pki.Intermediate).Encoded.ToArray();
        using var get = new HttpRequestMessage(HttpMethod.Get, new Uri(front.Url, OcspHttpEncoding.EncodeForGet(der)));
        get.Headers.Host = "ocsp.ca.example";
        get.Headers.CacheControl = new CacheControlHeaderValue { NoCache = true };
        using HttpResponseMessage answer = await client.SendAsync(get);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.True(answer.Headers.CacheControl is { Public: true, MaxAge: not null }, answer.Headers.CacheControl?.ToString());
        Assert.True(OcspResponseValidator.Validate(await answer.Content.ReadAsByteArrayAsync(), site.Certificate, fixture.Pki.Intermediate, TimeProvider.System.GetUtcNow()).IsValid);

        using var tooLong = new HttpRequestMessage(HttpMethod.Get, new Uri(front.Url, new string('A', 300)));
        tooLong.Headers.Host = "ocsp.ca.example";
        using HttpResponseMessage refused = await client.SendAsync(tooLong);
        Assert.Equal(HttpStatusCode.RequestUriTooLong, refused.StatusCode);

        Assert.True(fixture.Responder.RequestCount == before + 1, $"{fixture.Responder.RequestCount - before} upstream requests:\n{front.Output}");
        Assert.Contains($"backend http://127.0.0.1:{down}/ocsp of http://ocsp.ca.example/ failed", front.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_Backend_BadValues_ExitWithUsage_AndSayWhy()
    {
        string backend = fixture.Responder.Url.AbsoluteUri;
        (string[] Arguments, string Message)[] cases =
        [
            (["--backend", "http://ocsp.ca.example/"], "is not PUBLIC_URL=BACKEND_URL"),
            (["--backend", "ftp://ocsp.ca.example/=" + backend], "--backend's public URL 'ftp://ocsp.ca.example/' is not an absolute http(s) URL"),
            (["--backend", "http://ocsp.ca.example/=http://ocsp.ca.example:80/x"], "has the host and port of a public URL"),
            (["--backend", "http://ocsp.ca.example/=" + backend, "--allow-responder", "http://ocsp.ca.example/"], "is also an allowed responder; the proxy fronts it and never contacts it: remove it from AllowedResponders (--allow-responder)"),
        ];
        foreach ((string[] arguments, string message) in cases)
        {
            ProgramResult result = await ToolFixture.RunToolAsync(["serve", "--ca", fixture.IssuerFile, .. arguments]);
            Assert.True(result.ExitCode == 64 && result.StandardError.Contains(message, StringComparison.Ordinal), $"{string.Join(' ', arguments)}:\n{result}");
        }
    }

    private async Task AssertGoodThroughAsync(ServeProcess proxy, LeafFiles site)
    {
        ProgramResult result = await ExternalProgram.RunAsync(
            "openssl",
            ["ocsp", "-issuer", fixture.IssuerFile, "-cert", site.Leaf, "-url", proxy.Url.AbsoluteUri, "-CAfile", fixture.RootFile, "-no_nonce", "-timeout", "20",
                "-header", $"Host={fixture.Responder.Url.Authority}"],
            timeout: TimeSpan.FromSeconds(30));
        string output = result.StandardOutput + result.StandardError;
        Assert.True(result.ExitCode == 0 && output.Contains("Response verify OK", StringComparison.Ordinal) && output.Contains(": good", StringComparison.Ordinal),
            $"openssl ocsp through serve:\n{result}\nserve:\n{proxy.Output}");
    }
}
