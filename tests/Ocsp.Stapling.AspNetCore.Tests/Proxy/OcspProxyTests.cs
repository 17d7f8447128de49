using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.AspNetCore.Tests.Proxy;

public sealed class OcspProxyTests(KestrelFixture fixture) : IClassFixture<KestrelFixture>
{
    private static readonly byte[] MalformedRequest = [0x30, 0x03, 0x0A, 0x01, 0x01];
    private static readonly byte[] TryLater = [0x30, 0x03, 0x0A, 0x01, 0x03];
    private readonly FakeTimeProvider _time = fixture.Reset();

    private string ResponderHost => $"127.0.0.1:{fixture.Responder.Url.Port}";

    [SkippableFact]
    public async Task OpenSslOcsp_ThroughTheProxy_UpstreamOnce_ThenCached_ServedWithResponderDown_PruneKeepsServing()
    {
        Requires.Programs("openssl");
        X509Certificate2 leaf = fixture.NewLeaf("proxy");
        await using ProxyServer proxy = await StartAsync(leaf);
        string leafFile = await WritePemAsync(leaf);

        for (int i = 0; i < 3; i++)
        {
            string answer = await OpenSslOcspAsync(proxy, leafFile, ["-header", $"Host={ResponderHost}"]);
            Assert.Contains(": good", answer, StringComparison.Ordinal);
        }

        Assert.Equal(1, fixture.Responder.RequestCount);

        fixture.Responder.Fault = ResponderFault.Down;
        Assert.Contains(": good", await OpenSslOcspAsync(proxy, leafFile, ["-header", $"Host={ResponderHost}"]), StringComparison.Ordinal);

        // Prune with the responder down: a refetch is asked for and fails, and the held response is still served.
        string pruned = await OpenSslOcspAsync(proxy, leafFile, ["-header", $"Host={ResponderHost}", "-header", "X-Prune-From-Cache=1"]);
        Assert.Contains(": good", pruned, StringComparison.Ordinal);
        Assert.True(proxy.Provider.TryGetCachedStaple(leaf, out _));
        Assert.Contains(proxy.Logs.Entries, e => e.Message.Contains("X-Prune-From-Cache", StringComparison.Ordinal) && e.Message.EndsWith("refetched", StringComparison.Ordinal));

        fixture.Responder.Fault = ResponderFault.None;
        Assert.Contains(": good", await OpenSslOcspAsync(proxy, leafFile, []), StringComparison.Ordinal); // Host = the proxy: routed by CertID
        // 1 first fetch, 1 attempt after the prune while down (aborted); everything else from the cache.
        Assert.Equal(2, fixture.Responder.RequestCount);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // as serve runs it: the whole application, no routing
    public async Task Get_Rfc5019_EscapedOrNot_WithSlashes_ServedWithCacheHeaders_AndConditional304(bool asApplication)
    {
        X509Certificate2 leaf = FindLeafWithSlashInGetEncoding();
        await using ProxyServer proxy = await StartAsync(leaf, pattern: "/ocsp", asApplication: asApplication);
        OcspStaple staple = await proxy.StapleAsync(leaf, fixture.Pki.Intermediate);
        string base64 = Convert.ToBase64String(OcspRequest.Create(leaf, fixture.Pki.Intermediate).Encoded.Span);
        Assert.Contains('/', base64);
        using var client = new HttpClient();

        string[] targets =
        [
            "/ocsp/" + Uri.EscapeDataString(base64),                   // RFC 5019: "+ / =" escaped, %2F in the path
            "/ocsp/" + base64,                                        // raw base64, '/' as path separators
            "/ocsp/" + Uri.EscapeDataString(base64).Replace("%3D", "=", StringComparison.Ordinal),
        ];
        foreach (string target in targets)
        {
            using HttpResponseMessage response = await client.GetAsync(new Uri(proxy.Url, target));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("application/ocsp-response", response.Content.Headers.ContentType!.MediaType);
            Assert.Equal(staple.Encoded.ToArray(), await response.Content.ReadAsByteArrayAsync());
            Assert.True(response.Headers.CacheControl!.MaxAge > TimeSpan.FromHours(23));
            Assert.True(response.Headers.CacheControl.Public);
            Assert.Equal(staple.NextUpdate, response.Content.Headers.Expires);
            Assert.Equal(staple.ThisUpdate, response.Content.Headers.LastModified);
            Assert.NotNull(response.Headers.ETag);
        }

        using var conditional = new HttpRequestMessage(HttpMethod.Get, new Uri(proxy.Url, targets[0]));
        using HttpResponseMessage first = await client.GetAsync(new Uri(proxy.Url, targets[0]));
        conditional.Headers.IfNoneMatch.Add(first.Headers.ETag!);
        conditional.Headers.CacheControl = new CacheControlHeaderValue { NoCache = true };
        using HttpResponseMessage notModified = await client.SendAsync(conditional);

        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Equal(1, fixture.Responder.RequestCount); // "no-cache" from a client never drives an upstream fetch
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task HttpProxyForm_PostAndGet_ToTheResponderUrl_AnsweredFromTheStore_OtherAuthorities403(bool asApplication)
    {
        // Apache's SSLOCSPProxyURL (and any client given the proxy as its HTTP proxy) sends "POST http://responder/path",
        // and GET in proxy form carries the responder's path before the request.
        X509Certificate2 leaf = FindLeafWithSlashInGetEncoding();
        await using ProxyServer proxy = await StartAsync(leaf, asApplication: asApplication);
        OcspStaple staple = await proxy.StapleAsync(leaf, fixture.Pki.Intermediate);
        int upstream = fixture.Responder.RequestCount;
        byte[] der = OcspRequest.Create(leaf, fixture.Pki.Intermediate).Encoded.ToArray();
        using var client = new HttpClient(new SocketsHttpHandler { Proxy = new WebProxy(proxy.Url), UseProxy = true });
        Uri responder = fixture.Responder.Url;
        Assert.NotEqual("/", responder.AbsolutePath);

        using HttpResponseMessage post = await client.PostAsync(responder, OcspContent(der));
        using HttpResponseMessage get = await client.GetAsync(new Uri(responder.AbsoluteUri.TrimEnd('/') + "/" + Uri.EscapeDataString(Convert.ToBase64String(der))));
        using HttpResponseMessage elsewhere = await client.PostAsync(new Uri("http://ocsp.attacker.example/ocsp"), OcspContent(der));

        Assert.Equal(HttpStatusCode.OK, post.StatusCode);
        Assert.Equal(staple.Encoded.ToArray(), await post.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(staple.Encoded.ToArray(), await get.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.Forbidden, elsewhere.StatusCode);
        Assert.Equal(upstream, fixture.Responder.RequestCount); // all from the store
    }

    [SkippableFact]
    public async Task NonceAndMultiCertificateRequests_AreForwardedEveryTime_Uncached()
    {
        Requires.Programs("openssl");
        X509Certificate2 leaf = fixture.NewLeaf("nonce");
        X509Certificate2 other = fixture.NewLeaf("second");
        await using ProxyServer proxy = await StartAsync(leaf, other);
        await proxy.StapleAsync(leaf, fixture.Pki.Intermediate);
        await proxy.StapleAsync(other, fixture.Pki.Intermediate);
        int before = fixture.Responder.RequestCount;
        string leafFile = await WritePemAsync(leaf);
        string otherFile = await WritePemAsync(other);

        for (int i = 0; i < 2; i++)
        {
            string answer = await OpenSslOcspAsync(proxy, leafFile, ["-nonce"], noNonce: false);
            Assert.Contains(": good", answer, StringComparison.Ordinal);
            Assert.DoesNotContain("WARNING: no nonce in response", answer, StringComparison.Ordinal);
        }

        await OpenSslOcspAsync(proxy, leafFile, ["-cert", otherFile], expectSuccess: false);

        Assert.Equal(before + 3, fixture.Responder.RequestCount);
    }

    [Fact]
    public async Task HostNamingAnotherResponder_Or_UnknownCertificate_Gets403_AndNoOutboundConnection()
    {
        X509Certificate2 leaf = fixture.NewLeaf("ssrf");
        X509Certificate2 stranger = fixture.NewLeaf("stranger"); // not registered: the proxy knows no responder for it... except by issuer
        using var evil = new TcpListener(IPAddress.Loopback, 0);
        evil.Start();
        int evilPort = ((IPEndPoint)evil.LocalEndpoint).Port;
        await using ProxyServer proxy = await StartAsync(leaf);
        await proxy.StapleAsync(leaf, fixture.Pki.Intermediate);
        int requests = fixture.Responder.RequestCount;
        using var client = new HttpClient();

        using HttpResponseMessage foreignHost = await PostAsync(client, proxy, OcspRequest.Create(leaf, fixture.Pki.Intermediate).Encoded, host: "attacker.example:8080");
        using HttpResponseMessage foreignCa = await PostAsync(
            client, proxy, OcspRequest.Create(fixture.Pki.ForeignResponder, fixture.Pki.ForeignCa).Encoded, host: $"127.0.0.1:{evilPort}");

        Assert.Equal(HttpStatusCode.Forbidden, foreignHost.StatusCode);
        Assert.Contains("not allowed", await foreignHost.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, foreignCa.StatusCode);
        Assert.Contains("No allowed responder", await foreignCa.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False(evil.Pending());
        Assert.Equal(requests, fixture.Responder.RequestCount);

        // A certificate of a known issuer goes to that issuer's responder (forwarded, uncached).
        using HttpResponseMessage sameIssuer = await PostAsync(client, proxy, OcspRequest.Create(stranger, fixture.Pki.Intermediate).Encoded);
        Assert.Equal(HttpStatusCode.OK, sameIssuer.StatusCode);
        Assert.Equal(OcspCertificateStatus.Good, OcspResponse.Parse(await sameIssuer.Content.ReadAsByteArrayAsync()).Responses[0].Status);
        Assert.Equal(requests + 1, fixture.Responder.RequestCount);
    }

    [Fact]
    public async Task CertificateRegisteredAfterRequests_IsServedFromTheStore_UnregisteredOneIsForwardedAgain()
    {
        X509Certificate2 leaf = fixture.NewLeaf("index-first");
        X509Certificate2 later = fixture.NewLeaf("index-later");
        await using ProxyServer proxy = await StartAsync(leaf);
        await proxy.StapleAsync(leaf, fixture.Pki.Intermediate);
        using var client = new HttpClient();
        ReadOnlyMemory<byte> laterRequest = OcspRequest.Create(later, fixture.Pki.Intermediate).Encoded;

        // Not registered yet: forwarded to its issuer's responder every time, uncached.
        using (HttpResponseMessage forwarded = await PostAsync(client, proxy, laterRequest))
        {
            Assert.True(forwarded.Headers.CacheControl?.Private, forwarded.Headers.CacheControl?.ToString()); // relayed, for this client only
        }

        // Registered at runtime: the proxy's index follows without a restart, and the answer comes from the store.
        await proxy.StapleAsync(later, fixture.Pki.Intermediate);
        int requests = fixture.Responder.RequestCount;
        for (int i = 0; i < 3; i++)
        {
            using HttpResponseMessage cached = await PostAsync(client, proxy, laterRequest);
            Assert.Equal(HttpStatusCode.OK, cached.StatusCode);
            Assert.Contains("max-age=", cached.Headers.CacheControl?.ToString(), StringComparison.Ordinal);
        }

        Assert.Equal(requests, fixture.Responder.RequestCount);

        // Unregistered again: forwarded again.
        Assert.True(proxy.Registry.Unregister(later));
        using HttpResponseMessage again = await PostAsync(client, proxy, laterRequest);
        Assert.True(again.Headers.CacheControl?.Private, again.Headers.CacheControl?.ToString());
        Assert.Equal(requests + 1, fixture.Responder.RequestCount);
    }

    [Fact]
    public async Task AsApplication_OtherPathsAndMethods_AnsweredAsTheRouteAnswersThem()
    {
        // serve runs the proxy without routing: what the route would not match gets the same status as from the route.
        X509Certificate2 leaf = fixture.NewLeaf("app");
        await using ProxyServer routed = await StartAsync(leaf, pattern: "/ocsp");
        await using ProxyServer alone = await StartAsync(leaf, pattern: "/ocsp", asApplication: true);
        string get = "/" + Uri.EscapeDataString(Convert.ToBase64String(OcspRequest.Create(leaf, fixture.Pki.Intermediate).Encoded.Span));
        using var client = new HttpClient();
        (HttpMethod Method, string Path)[] requests =
        [
            (HttpMethod.Get, "/elsewhere" + get), (HttpMethod.Get, "/ocspx" + get), (HttpMethod.Post, "/"), (HttpMethod.Get, "/"),
            (HttpMethod.Put, "/ocsp" + get), (HttpMethod.Head, "/ocsp" + get), (HttpMethod.Delete, "/ocsp"), (HttpMethod.Options, "/ocsp/x"),
            (HttpMethod.Get, "/OCSP" + get), (HttpMethod.Get, "/ocsp" + get),
        ];

        foreach ((HttpMethod method, string path) in requests)
        {
            using var fromRoute = new HttpRequestMessage(method, new Uri(routed.Url, path));
            using var fromApplication = new HttpRequestMessage(method, new Uri(alone.Url, path));
            using HttpResponseMessage expected = await client.SendAsync(fromRoute);
            using HttpResponseMessage actual = await client.SendAsync(fromApplication);

            Assert.True(expected.StatusCode == actual.StatusCode, $"{method} {path}: {actual.StatusCode}, the route gives {expected.StatusCode}");
            Assert.Equal(expected.Content.Headers.Allow.OrderBy(m => m), actual.Content.Headers.Allow.OrderBy(m => m));
        }

        using HttpResponseMessage put = await client.SendAsync(new HttpRequestMessage(HttpMethod.Put, new Uri(alone.Url, "/ocsp" + get)));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, put.StatusCode);
        Assert.Equal(["GET", "POST"], put.Content.Headers.Allow.Order());
        using HttpResponseMessage served = await client.GetAsync(new Uri(alone.Url, "/ocsp" + get));
        Assert.Equal(OcspResponseStatus.Successful, OcspResponse.Parse(await served.Content.ReadAsByteArrayAsync()).Status);
    }

    [Fact]
    public async Task Get_DecodedOnce_TheChecksStillRunOnEveryRequest()
    {
        // The same GET target is decoded once (the memo), but its Host, a prune header's policy and the store are asked
        // every time: a decoded request held for one client gives another nothing it would not get anyway.
        X509Certificate2 leaf = fixture.NewLeaf("memo");
        await using ProxyServer proxy = await StartAsync(leaf, configure: o => o.PrunePolicy = _ => false, asApplication: true);
        OcspStaple staple = await proxy.StapleAsync(leaf, fixture.Pki.Intermediate);
        string target = "/" + Uri.EscapeDataString(Convert.ToBase64String(OcspRequest.Create(leaf, fixture.Pki.Intermediate).Encoded.Span));
        using var client = new HttpClient();

        using HttpResponseMessage first = await GetAsync(target, ResponderHost);
        using HttpResponseMessage again = await GetAsync(target, ResponderHost);
        using HttpResponseMessage foreignHost = await GetAsync(target, "attacker.example:8080");
        using HttpResponseMessage prune = await GetAsync(target, ResponderHost, prune: true);
        using HttpResponseMessage garbage = await GetAsync("/not*base64!", ResponderHost);

        Assert.Equal(staple.Encoded.ToArray(), await first.Content.ReadAsByteArrayAsync());
        Assert.Equal(staple.Encoded.ToArray(), await again.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.Forbidden, foreignHost.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, prune.StatusCode);
        Assert.Equal(MalformedRequest, await garbage.Content.ReadAsByteArrayAsync());
        Assert.Equal(1, proxy.Proxy!.GetRequests.Count); // the one well-formed target; garbage is never held

        async Task<HttpResponseMessage> GetAsync(string path, string host, bool prune = false)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(proxy.Url, path));
            request.Headers.Host = host;
            if (prune)
            {
                request.Headers.Add("X-Prune-From-Cache", "1");
            }

            return await client.SendAsync(request);
        }
    }

    [Fact]
    public async Task BadRequests_GetTheDocumentedAnswers()
    {
        X509Certificate2 leaf = fixture.NewLeaf("bad");
        await using ProxyServer proxy = await StartAsync(leaf);
        using var client = new HttpClient();

        using HttpResponseMessage garbage = await PostAsync(client, proxy, new byte[] { 0x30, 0x82, 0xFF, 0xFF, 0x01 });
        using HttpResponseMessage badGet = await client.GetAsync(new Uri(proxy.Url, "/not*base64!"));
        using HttpResponseMessage huge = await PostAsync(client, proxy, new byte[20_000]);
        using HttpResponseMessage longUrl = await client.GetAsync(new Uri(proxy.Url, "/" + new string('A', 3000)));
        using var wrongType = new ByteArrayContent([0x30, 0x00]);
        wrongType.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
        using HttpResponseMessage textPlain = await client.PostAsync(proxy.Url, wrongType);

        Assert.Equal(HttpStatusCode.OK, garbage.StatusCode);
        Assert.Equal(MalformedRequest, await garbage.Content.ReadAsByteArrayAsync());
        Assert.Equal(MalformedRequest, await badGet.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, huge.StatusCode);
        Assert.Equal(HttpStatusCode.RequestUriTooLong, longUrl.StatusCode);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, textPlain.StatusCode);
    }

    [Fact]
    public async Task ResponderDown_NothingCached_AnswersTryLater_AsOcsp()
    {
        fixture.Responder.Fault = ResponderFault.Down;
        X509Certificate2 leaf = fixture.NewLeaf("down");
        await using ProxyServer proxy = await StartAsync(leaf);
        using var client = new HttpClient();

        using HttpResponseMessage response = await PostAsync(client, proxy, OcspRequest.Create(leaf, fixture.Pki.Intermediate).Encoded);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/ocsp-response", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal(TryLater, await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Prune_ForbiddenByPolicy_Gets403_AndKeepsTheResponse()
    {
        X509Certificate2 leaf = fixture.NewLeaf("prune");
        await using ProxyServer proxy = await StartAsync(leaf, configure: o => o.PrunePolicy = _ => false);
        await proxy.StapleAsync(leaf, fixture.Pki.Intermediate);
        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, proxy.Url) { Content = OcspContent(OcspRequest.Create(leaf, fixture.Pki.Intermediate).Encoded) };
        request.Headers.Add("X-Prune-From-Cache", "1");

        using HttpResponseMessage response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.True(proxy.Provider.TryGetCachedStaple(leaf, out _));
    }

    private Task<ProxyServer> StartAsync(
        X509Certificate2 leaf, X509Certificate2? other = null, string pattern = "/", Action<OcspProxyOptions>? configure = null, bool asApplication = false) =>
        ProxyServer.StartAsync(_time, fixture.NewCacheDirectory(), fixture.Pki.Intermediate, other is null ? [leaf] : [leaf, other], pattern, configure, asApplication);

    private static ByteArrayContent OcspContent(ReadOnlyMemory<byte> der)
    {
        var content = new ByteArrayContent(der.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/ocsp-request");
        return content;
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, ProxyServer proxy, ReadOnlyMemory<byte> der, string? host = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, proxy.Url) { Content = OcspContent(der) };
        if (host is not null)
        {
            request.Headers.Host = host;
        }

        return await client.SendAsync(request);
    }

    private X509Certificate2 FindLeafWithSlashInGetEncoding()
    {
        while (true)
        {
            X509Certificate2 leaf = fixture.NewLeaf("get");
            if (Convert.ToBase64String(OcspRequest.Create(leaf, fixture.Pki.Intermediate).Encoded.Span).Contains('/', StringComparison.Ordinal))
            {
                return leaf;
            }
        }
    }

    private async Task<string> WritePemAsync(X509Certificate2 certificate)
    {
        string path = Path.Combine(fixture.Directory, $"{Guid.NewGuid():N}.pem");
        await File.WriteAllTextAsync(path, TestPki.ToPem(certificate));
        return path;
    }

    private async Task<string> OpenSslOcspAsync(ProxyServer proxy, string leafFile, string[] extra, bool expectSuccess = true, bool noNonce = true)
    {
        string issuerFile = Path.Combine(fixture.Directory, "issuer.pem");
        await File.WriteAllTextAsync(issuerFile, TestPki.ToPem(fixture.Pki.Intermediate));
        string[] arguments =
        [
            "ocsp", "-issuer", issuerFile, "-cert", leafFile, "-url", proxy.Url.ToString(), "-CAfile", fixture.RootFile, "-timeout", "20",
            .. noNonce ? new[] { "-no_nonce" } : [], .. extra,
        ];
        ProgramResult result = await ExternalProgram.RunAsync("openssl", arguments, timeout: TimeSpan.FromSeconds(30));
        string output = result.StandardOutput + result.StandardError;
        if (expectSuccess)
        {
            Assert.True(result.ExitCode == 0, $"openssl ocsp failed:\n{result}");
            Assert.Contains("Response verify OK", output, StringComparison.Ordinal);
        }

        return output;
    }
}
