using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Ocsp.Stapling.AspNetCore.Internal;
using Ocsp.Stapling.Internal;
using Ocsp.Stapling.Testing;
using Log = Ocsp.Stapling.AspNetCore.Internal.Log;

namespace Ocsp.Stapling.AspNetCore.Tests.Proxy;

/// <summary>
/// <see cref="OcspProxyOptions.Backends"/>: the proxy in front of a CA's own responder, under that responder's public
/// name (the EJBCA seed's Apache cache with balancer members): answered from the validated cache, misses and refreshes
/// to the backends in order with a failing one skipped for a while, RFC 5019 GETs only, no-cache never a bypass.
/// </summary>
public sealed class OcspProxyBackendTests(KestrelFixture fixture) : IClassFixture<KestrelFixture>
{
    private const string PublicHost = "ocsp.ca.example";
    private static readonly byte[] MalformedRequest = [0x30, 0x03, 0x0A, 0x01, 0x01];
    private readonly FakeTimeProvider _time = fixture.Reset();

    [Fact]
    public async Task TwoBackends_FirstDown_TheSecondAnswers_TheFirstIsSkippedForAWhile_ThenTriedAgain()
    {
        await using TestOcspResponder down = await TestOcspResponder.StartAsync(_time);
        down.Fault = ResponderFault.Down; // accepts, then drops the connection
        await using ProxyServer proxy = await StartAsync([down.Url, fixture.Responder.Url]);
        using var client = new HttpClient();

        // A first request: the first backend fails, the second answers; the failure is logged once.
        X509Certificate2 one = fixture.NewLeaf("front-1");
        AssertGood(await AnswerAsync(client, proxy, Post(one)), one);
        Assert.Equal((1, 1), (down.RequestCount, fixture.Responder.RequestCount));
        Assert.Single(proxy.Logs.Entries, e => e.EventId == Log.ProxyBackendFailedId);

        // Within the skip time the failed backend is tried after the other: a GET and a forwarded nonce request never reach it.
        X509Certificate2 two = fixture.NewLeaf("front-2");
        AssertGood(await AnswerAsync(client, proxy, Get(two)), two);
        using (HttpResponseMessage forwarded = await SendAsync(client, proxy, Post(one, nonce: true)))
        {
            Assert.True(forwarded.Headers.CacheControl is { Private: true }, forwarded.Headers.CacheControl?.ToString()); // relayed for this client only
            Assert.Equal(OcspResponseStatus.Successful, OcspResponse.Parse(await forwarded.Content.ReadAsByteArrayAsync()).Status);
        }

        Assert.Equal((1, 3), (down.RequestCount, fixture.Responder.RequestCount));

        // Past the skip time it is tried in its turn again; once it answers, that is logged.
        _time.Advance(TimeSpan.FromSeconds(31));
        X509Certificate2 three = fixture.NewLeaf("front-3");
        AssertGood(await AnswerAsync(client, proxy, Post(three)), three);
        Assert.Equal((2, 4), (down.RequestCount, fixture.Responder.RequestCount));

        down.Fault = ResponderFault.None;
        down.AddIssuer(fixture.Pki.Intermediate);
        _time.Advance(TimeSpan.FromSeconds(31));
        X509Certificate2 four = fixture.NewLeaf("front-4");
        AssertGood(await AnswerAsync(client, proxy, Post(four)), four);
        Assert.Equal((3, 4), (down.RequestCount, fixture.Responder.RequestCount));
        Assert.Single(proxy.Logs.Entries, e => e.EventId == Log.ProxyBackendRecoveredId);
        Assert.Single(proxy.Logs.Entries, e => e.EventId == Log.ProxyBackendFailedId); // once per outage, not per request
    }

    [Fact]
    public async Task FirstBackendRefusesConnections_EveryAnswerComesFromTheSecond_AndNothingGoesToThePublicName()
    {
        int closed = ClosedPort();
        await using ProxyServer proxy = await StartAsync([new Uri($"http://127.0.0.1:{closed}/ocsp"), fixture.Responder.Url]);
        using var client = new HttpClient();

        for (int i = 0; i < 3; i++)
        {
            X509Certificate2 leaf = fixture.NewLeaf($"front-refused-{i}");
            AssertGood(await AnswerAsync(client, proxy, i % 2 == 0 ? Post(leaf) : Get(leaf)), leaf);
        }

        Assert.Equal(3, fixture.Responder.RequestCount);
        Assert.Single(proxy.Logs.Entries, e => e.EventId == Log.ProxyBackendFailedId);
        Assert.DoesNotContain(proxy.Logs.Entries, e => e.Message.Contains($"http://{PublicHost}/ocsp", StringComparison.OrdinalIgnoreCase) && e.EventId == Log.ProxyUpstreamFailedId);
    }

    [Fact]
    public async Task ABurstOfAThousandGets_ForOneCertificate_ReachesABackendOnce_NoCacheNeverBypasses()
    {
        await using ProxyServer proxy = await StartAsync([fixture.Responder.Url]);
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 64 };
        using var client = new HttpClient(handler) { BaseAddress = proxy.Url };
        X509Certificate2 leaf = fixture.NewLeaf("front-burst");

        byte[][] answers = await Task.WhenAll(Enumerable.Range(0, 1000).Select(async i =>
        {
            using HttpRequestMessage request = Get(leaf);
            if (i % 2 == 0)
            {
                request.Headers.CacheControl = new CacheControlHeaderValue { NoCache = true }; // the seed's DoS: must not reach the backend
                request.Headers.Pragma.ParseAdd("no-cache");
            }

            using HttpResponseMessage response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return await response.Content.ReadAsByteArrayAsync();
        }));

        Assert.Equal(1, fixture.Responder.RequestCount);
        Assert.All(answers, a => Assert.Equal(answers[0], a));
        AssertGood(answers[0], leaf);
    }

    [Theory]
    [InlineData(ResponderFault.Garbage)]
    [InlineData(ResponderFault.HtmlBody)]
    [InlineData(ResponderFault.WrongSerial)]
    [InlineData(ResponderFault.WrongSigner)]
    [InlineData(ResponderFault.Expired)]
    [InlineData(ResponderFault.Unknown)]
    public async Task ABackendAnsweringGarbage_NeverReplacesTheValidCachedResponse(ResponderFault fault)
    {
        string store = fixture.NewCacheDirectory();
        X509Certificate2 leaf = fixture.NewLeaf("front-garbage");
        OcspCertificateId id = OcspCertificateId.Create(leaf, fixture.Pki.Intermediate);
        using var client = new HttpClient();
        byte[] good;
        await using (ProxyServer proxy = await StartAsync([fixture.Responder.Url], store))
        {
            good = await AnswerAsync(client, proxy, Get(leaf));
            fixture.Responder.Fault = fault;

            // The scheduled refresh (due at about half the 4-day validity) and a prune both get the bad answer: refused.
            _time.Advance(TimeSpan.FromDays(2) + TimeSpan.FromHours(2));
            await fixture.Responder.WhenRequestCountAsync(2).WaitAsync(TimeSpan.FromSeconds(30)); // a guard against a hang, not a timing
            HttpRequestMessage prune = Get(leaf);
            prune.Headers.Add(OcspProxy.PruneHeader, "1");
            using (HttpResponseMessage pruned = await SendAsync(client, proxy, prune))
            {
                Assert.Equal(good, await pruned.Content.ReadAsByteArrayAsync());
            }

            Assert.Equal(good, await AnswerAsync(client, proxy, Post(leaf)));
            Assert.True(fixture.Responder.RequestCount >= 2, $"{fixture.Responder.RequestCount} upstream requests");
            Assert.Equal(good, proxy.Registry.GetState(id)!.Staple!.Encoded.ToArray());
        }

        // What the store holds is still the valid response: a restart with every backend down serves it.
        fixture.Responder.Fault = ResponderFault.Down;
        await using ProxyServer restarted = await StartAsync([fixture.Responder.Url], store);
        Assert.Equal(good, await AnswerAsync(client, restarted, Get(leaf)));
    }

    [Fact]
    public async Task Get_FollowsRfc5019_414Beyond255Bytes_MalformedRequestForJunk_404ElsewhereUnderThePublicName_CacheHeaders()
    {
        await using ProxyServer proxy = await StartAsync([fixture.Responder.Url]);
        using var client = new HttpClient { BaseAddress = proxy.Url };

        // A SHA-256 CertID with a 128-byte nonce: over 255 encoded bytes, so a conforming client uses POST (answered), not GET (414).
        X509Certificate2[] leaves = [fixture.NewLeaf("front-long")];
        byte[] large = OcspRequest.Create(OcspCertificateId.Create(leaves[0], fixture.Pki.Intermediate, OcspHashAlgorithm.Sha256), new byte[128]).Encoded.ToArray();
        Assert.True(OcspHttpEncoding.EncodeForGet(large).Length > OcspHttpEncoding.MaxGetRequestLength);
        using (HttpResponseMessage tooLong = await client.SendAsync(GetRaw("/ocsp/" + OcspHttpEncoding.EncodeForGet(large))))
        {
            Assert.Equal(HttpStatusCode.RequestUriTooLong, tooLong.StatusCode);
        }

        using (HttpResponseMessage posted = await SendAsync(client, proxy, PostRaw(large)))
        {
            Assert.Equal(OcspResponseStatus.Successful, OcspResponse.Parse(await posted.Content.ReadAsByteArrayAsync()).Status);
        }

        Assert.Equal(1, fixture.Responder.RequestCount);

        // Junk where the request should be: RFC 6960's malformedRequest, not stored by anyone.
        foreach (string junk in new[] { "/ocsp/not*base64!", "/ocsp/", "/ocsp/AAAA" })
        {
            using HttpResponseMessage malformed = await client.SendAsync(GetRaw(junk));
            Assert.Equal(HttpStatusCode.OK, malformed.StatusCode);
            Assert.Equal(MalformedRequest, await malformed.Content.ReadAsByteArrayAsync());
            Assert.True(malformed.Headers.CacheControl?.NoStore, junk);
        }

        // Under the public name, only its OCSP path is served.
        using (HttpResponseMessage elsewhere = await client.SendAsync(GetRaw("/admin/" + OcspHttpEncoding.EncodeForGet(Der(leaves[0])))))
        {
            Assert.Equal(HttpStatusCode.NotFound, elsewhere.StatusCode);
            Assert.Contains($"http://{PublicHost}/ocsp", await elsewhere.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // A cached answer carries RFC 9919's headers, and a conditional GET is answered 304.
        using HttpResponseMessage cached = await client.SendAsync(Get(leaves[0]));
        byte[] body = await cached.Content.ReadAsByteArrayAsync();
        OcspStaple staple = OcspResponseValidator.Validate(body, leaves[0], fixture.Pki.Intermediate, _time.GetUtcNow()).Staple!;
        Assert.True(cached.Headers.CacheControl is { Public: true, NoTransform: true, MustRevalidate: true, NoCache: false, NoStore: false }, cached.Headers.CacheControl?.ToString());
        Assert.Equal(TimeSpan.FromDays(1), cached.Headers.CacheControl!.MaxAge); // capped by MaxCacheAge, under nextUpdate
        Assert.Equal(staple.ThisUpdate, cached.Content.Headers.LastModified);
        Assert.Equal(staple.NextUpdate, cached.Content.Headers.Expires);
        Assert.NotNull(cached.Headers.ETag);
        using HttpRequestMessage conditional = Get(leaves[0]);
        conditional.Headers.IfNoneMatch.Add(cached.Headers.ETag!);
        using HttpResponseMessage notModified = await client.SendAsync(conditional);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Equal(2, fixture.Responder.RequestCount);
    }

    [Fact]
    public void Options_ABackendThatIsThePublicName_APublicNameAlsoAllowed_NoBackends_DuplicatePublicUrls_AreRefused()
    {
        var options = new OcspProxyOptions();
        options.Backends.Responders.Add(new OcspProxyBackend(new Uri("http://ocsp.ca.example/"), [new Uri("http://ocsp.ca.example:80/ejbca")]));
        options.Backends.Responders.Add(new OcspProxyBackend(new Uri("http://OCSP.ca.example/"), [new Uri("http://10.0.0.5/")]));
        options.Backends.Responders.Add(new OcspProxyBackend(new Uri("http://ocsp2.ca.example/"), []));
        options.Backends.Responders.Add(new OcspProxyBackend(new Uri("http://ocsp3.ca.example/?x=1"), [new Uri("http://10.0.0.6/")]));
        options.AllowedResponders.Add(new Uri("http://ocsp2.ca.example/"));

        string[] failures = [.. new OcspProxyOptionsValidator().Validate(null, options).Failures!];

        Assert.Contains(failures, f => f.Contains("has the host and port of a public URL", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("is listed twice", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("has no backend", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("is also an allowed responder", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("without a query", StringComparison.Ordinal));
    }

    private void AssertGood(byte[] response, X509Certificate2 leaf)
    {
        OcspValidationResult validation = OcspResponseValidator.Validate(response, leaf, fixture.Pki.Intermediate, _time.GetUtcNow());
        Assert.True(validation.IsValid, validation.Message);
        Assert.Equal(OcspCertificateStatus.Good, validation.Staple!.Status);
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private Task<ProxyServer> StartAsync(IEnumerable<Uri> backends, string? store = null) =>
        ProxyServer.StartAsync(_time, store ?? fixture.NewCacheDirectory(), fixture.Pki.Intermediate, [], configure: o =>
        {
            o.CertificateAuthorities.Add(new OcspProxyCertificateAuthority(fixture.Pki.Intermediate));
            o.Backends.Responders.Add(new OcspProxyBackend(new Uri($"http://{PublicHost}/ocsp"), backends));
        });

    private byte[] Der(X509Certificate2 leaf, bool nonce = false) =>
        OcspRequest.Create(OcspCertificateId.Create(leaf, fixture.Pki.Intermediate), nonce ? [1, 2, 3, 4, 5, 6, 7, 8] : []).Encoded.ToArray();

    /// <summary>A POST as a client whose AIA names the public URL sends it: to the proxy's address, <c>Host</c> the public name.</summary>
    private HttpRequestMessage Post(X509Certificate2 leaf, bool nonce = false) => PostRaw(Der(leaf, nonce));

    private static HttpRequestMessage PostRaw(byte[] der)
    {
        var content = new ByteArrayContent(der);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/ocsp-request");
        var request = new HttpRequestMessage(HttpMethod.Post, "/ocsp") { Content = content };
        request.Headers.Host = PublicHost;
        return request;
    }

    private HttpRequestMessage Get(X509Certificate2 leaf) => GetRaw("/ocsp/" + OcspHttpEncoding.EncodeForGet(Der(leaf)));

    private static HttpRequestMessage GetRaw(string path)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Host = PublicHost;
        return request;
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, ProxyServer proxy, HttpRequestMessage request)
    {
        using (request)
        {
            request.RequestUri = request.RequestUri!.IsAbsoluteUri ? request.RequestUri : new Uri(proxy.Url, request.RequestUri.OriginalString);
            HttpResponseMessage response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return response;
        }
    }

    /// <summary>The proxy's answer, which must be a cacheable (max-age) successful response.</summary>
    private static async Task<byte[]> AnswerAsync(HttpClient client, ProxyServer proxy, HttpRequestMessage request)
    {
        using HttpResponseMessage response = await SendAsync(client, proxy, request);
        byte[] body = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.Headers.CacheControl?.MaxAge is not null, $"not answered from the cache: {response.Headers.CacheControl}\n{string.Join('\n', proxy.Logs.Entries.Select(e => e.Message))}");
        return body;
    }
}
