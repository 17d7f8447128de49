using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using Ocsp.Stapling.AspNetCore.Internal;
using Ocsp.Stapling.Internal;
using Log = Ocsp.Stapling.AspNetCore.Internal.Log;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.AspNetCore.Tests.Proxy;

/// <summary>
/// <see cref="OcspProxyOptions.CertificateAuthorities"/>: every certificate of a known CA is cached on its first request
/// with nothing listed (ocsp_proxy's behaviour), validated against that CA, refreshed, capped, and forgotten when idle.
/// </summary>
public sealed class OcspProxyCertificateAuthorityTests(KestrelFixture fixture) : IClassFixture<KestrelFixture>
{
    private static readonly byte[] TryLater = [0x30, 0x03, 0x0A, 0x01, 0x03];
    private readonly FakeTimeProvider _time = fixture.Reset();

    private string ResponderHost => $"127.0.0.1:{fixture.Responder.Url.Port}";

    [SkippableTheory]
    [InlineData("-sha1")]
    [InlineData("-sha256")]
    public async Task OpenSslOcsp_KnownCa_NothingListed_ThreeCalls_OneUpstreamRequest_ThenServedWithTheResponderDown(string digest)
    {
        Requires.Programs("openssl");
        X509Certificate2 leaf = fixture.NewLeaf("ca-openssl");
        await using ProxyServer proxy = await StartAsync();
        string leafFile = Path.Combine(fixture.Directory, $"{Guid.NewGuid():N}.pem");
        await File.WriteAllTextAsync(leafFile, TestPki.ToPem(leaf));

        for (int i = 0; i < 3; i++)
        {
            Assert.Contains(": good", await OpenSslOcspAsync(proxy, leafFile, digest), StringComparison.Ordinal);
        }

        Assert.Equal(1, fixture.Responder.RequestCount);
        OcspCertificateId asked = Assert.Single(fixture.Responder.ReceivedCertificateIds);
        Assert.Equal(digest == "-sha1" ? OcspHashAlgorithm.Sha1 : OcspHashAlgorithm.Sha256, asked.HashAlgorithm); // asked in kind
        Assert.NotNull(proxy.Registry.GetState(asked)?.Staple);
        Assert.Contains(proxy.Logs.Entries, e => e.EventId == Log.ProxyCertificateIdCachedId);

        fixture.Responder.Fault = ResponderFault.Down;
        Assert.Contains(": good", await OpenSslOcspAsync(proxy, leafFile, digest), StringComparison.Ordinal);
        Assert.Equal(1, fixture.Responder.RequestCount); // answered from memory: the responder is not even asked
    }

    [Fact]
    public async Task SecondProxyOnTheSameStore_AnswersWithoutAnUpstreamRequest_AndAfterARestartWithTheResponderDown()
    {
        X509Certificate2 leaf = fixture.NewLeaf("ca-fleet");
        string store = fixture.NewCacheDirectory();
        byte[] request = OcspRequest.Create(leaf, fixture.Pki.Intermediate).Encoded.ToArray();
        using var client = new HttpClient();
        byte[] first;
        await using (ProxyServer one = await StartAsync(store))
        await using (ProxyServer two = await StartAsync(store))
        {
            first = await AnswerAsync(client, one, request);
            Assert.Equal(1, fixture.Responder.RequestCount);
            Assert.Equal(first, await AnswerAsync(client, two, request));
            Assert.Equal(1, fixture.Responder.RequestCount);
        }

        fixture.Responder.Fault = ResponderFault.Down;
        await using ProxyServer restarted = await StartAsync(store);
        Assert.Equal(first, await AnswerAsync(client, restarted, request));
        Assert.Equal(1, fixture.Responder.RequestCount);
    }

    [Theory]
    [InlineData(ResponderFault.WrongSerial)]
    [InlineData(ResponderFault.HtmlBody)]
    [InlineData(ResponderFault.BadSignature)]
    [InlineData(ResponderFault.WrongSigner)]
    public async Task BadUpstreamAnswer_IsNeverCachedOrRelayed_NothingIsKept_TheNextGoodOneIs(ResponderFault fault)
    {
        X509Certificate2 leaf = fixture.NewLeaf("ca-bad");
        OcspCertificateId id = OcspCertificateId.Create(leaf, fixture.Pki.Intermediate);
        string store = fixture.NewCacheDirectory();
        await using ProxyServer proxy = await StartAsync(store);
        using var client = new HttpClient();
        byte[] request = OcspRequest.Create(leaf, fixture.Pki.Intermediate).Encoded.ToArray();
        fixture.Responder.Fault = fault;

        using (HttpResponseMessage bad = await PostAsync(client, proxy, request))
        {
            Assert.Equal(TryLater, await bad.Content.ReadAsByteArrayAsync());
            Assert.Equal("no-store", bad.Headers.CacheControl?.ToString());
        }

        // A failure keeps nothing: no registration (nothing refreshed in the background), nothing in the store.
        Assert.Null(proxy.Registry.GetState(id));
        Assert.Empty(Directory.EnumerateFiles(store, "*.entry"));
        _time.Advance(TimeSpan.FromDays(1));
        Assert.Equal(1, fixture.Responder.RequestCount);

        // Asked again, the responder is asked again; once it recovers, its answer is cached.
        fixture.Responder.Fault = ResponderFault.None;
        byte[] good = await AnswerAsync(client, proxy, request);
        Assert.True(OcspResponseValidator.Validate(good, leaf, fixture.Pki.Intermediate, _time.GetUtcNow()).IsValid);
        Assert.Equal(good, await AnswerAsync(client, proxy, request));
        Assert.Equal(2, fixture.Responder.RequestCount);
        Assert.NotNull(proxy.Registry.GetState(id)?.Staple);
    }

    [Fact]
    public async Task UnknownIssuer_IsNeverCached_ForwardedEveryTime()
    {
        await using ProxyServer proxy = await StartAsync();
        using var client = new HttpClient();
        byte[] request = OcspRequest.Create(fixture.Pki.ForeignResponder, fixture.Pki.ForeignCa).Encoded.ToArray();

        for (int i = 0; i < 2; i++)
        {
            using HttpResponseMessage forwarded = await PostAsync(client, proxy, request);
            Assert.True(forwarded.Headers.CacheControl is { Private: true, MaxAge.Ticks: 0 }, forwarded.Headers.CacheControl?.ToString()); // relayed, for this client only
        }

        Assert.Equal(2, fixture.Responder.RequestCount);
        Assert.Empty(proxy.Registry.GetStates());
    }

    [Fact]
    public async Task AtTheCap_TheLeastRecentlyAskedIsEvicted_ItsStoreEntryLeftToExpire_AndItIsLoggedOnce()
    {
        X509Certificate2[] leaves = [fixture.NewLeaf("cap-1"), fixture.NewLeaf("cap-2"), fixture.NewLeaf("cap-3"), fixture.NewLeaf("cap-4")];
        OcspCertificateId[] ids = [.. leaves.Select(l => OcspCertificateId.Create(l, fixture.Pki.Intermediate))];
        string store = fixture.NewCacheDirectory();
        await using ProxyServer proxy = await StartAsync(store, o => o.Cache.MaxCertificatesPerAuthority = 2);
        using var client = new HttpClient();
        byte[] Request(int i) => OcspRequest.Create(leaves[i], fixture.Pki.Intermediate).Encoded.ToArray();

        await AnswerAsync(client, proxy, Request(0));
        _time.Advance(TimeSpan.FromSeconds(1));
        await AnswerAsync(client, proxy, Request(1));
        _time.Advance(TimeSpan.FromSeconds(1));
        await AnswerAsync(client, proxy, Request(0)); // asked again: now cap-2 is the least recently asked
        Assert.Equal(2, Directory.EnumerateFiles(store, "*.entry").Count());

        _time.Advance(TimeSpan.FromSeconds(1));
        await AnswerAsync(client, proxy, Request(2)); // a third at the cap: cap-2 goes, not the newcomer
        Assert.NotNull(proxy.Registry.GetState(ids[0]));
        Assert.Null(proxy.Registry.GetState(ids[1]));
        Assert.NotNull(proxy.Registry.GetState(ids[2]));
        Assert.Equal(3, Directory.EnumerateFiles(store, "*.entry").Count()); // the evicted one's entry expires at its nextUpdate: other servers may use it

        _time.Advance(TimeSpan.FromSeconds(1));
        await AnswerAsync(client, proxy, Request(3)); // and again: cap-1 goes now
        Assert.Equal([ids[2], ids[3]], proxy.Registry.GetStates().Select(s => s.CertificateId).OrderBy(i => Array.IndexOf(ids, i)));
        Assert.Equal(4, Directory.EnumerateFiles(store, "*.entry").Count());
        Assert.Equal(4, fixture.Responder.RequestCount);
        Assert.Single(proxy.Logs.Entries, e => e.EventId == Log.ProxyCertificateIdCapReachedId);
        Assert.Equal(2, proxy.Logs.Entries.Count(e => e.EventId == Log.ProxyCertificateIdEvictedId));
    }

    [Fact]
    public async Task NotAskedForForgetAfter_OnTheFakeClock_IsForgotten_AndNoLongerRefreshed_WhileAnAskedOneIs()
    {
        X509Certificate2 idle = fixture.NewLeaf("forget-idle");
        X509Certificate2 asked = fixture.NewLeaf("forget-asked");
        OcspCertificateId idleId = OcspCertificateId.Create(idle, fixture.Pki.Intermediate);
        OcspCertificateId askedId = OcspCertificateId.Create(asked, fixture.Pki.Intermediate);
        DateTimeOffset start = _time.GetUtcNow();
        string store = fixture.NewCacheDirectory();
        await using ProxyServer proxy = await StartAsync(store, o => o.Cache.ForgetAfter = TimeSpan.FromDays(1));
        using var client = new HttpClient();
        byte[] idleRequest = OcspRequest.Create(idle, fixture.Pki.Intermediate).Encoded.ToArray();
        byte[] askedRequest = OcspRequest.Create(asked, fixture.Pki.Intermediate).Encoded.ToArray();

        await AnswerAsync(client, proxy, idleRequest);
        _time.Advance(TimeSpan.FromHours(1));
        await AnswerAsync(client, proxy, askedRequest);
        _time.SetUtcNow(start + TimeSpan.FromHours(22));
        await AnswerAsync(client, proxy, askedRequest); // from the store: it counts as asked (and is not idle at 44 h)
        Assert.Equal(2, fixture.Responder.RequestCount);

        // The sweep runs hourly (ForgetAfter / 8, at most an hour): by ForgetAfter + 1 h the idle one is gone from memory;
        // its shared-store entry stays until its nextUpdate (another server, or a server stapling it, may use it).
        Assert.Equal(2, Directory.EnumerateFiles(store, "*.entry").Count());
        _time.SetUtcNow(start + TimeSpan.FromDays(1) + TimeSpan.FromHours(1));
        await proxy.Logs.WhenAsync(e => e.EventId == Log.ProxyCertificateIdsForgottenId).WaitAsync(TimeSpan.FromSeconds(30)); // a guard against a hang, not a timing
        Assert.Null(proxy.Registry.GetState(idleId));
        Assert.NotNull(proxy.Registry.GetState(askedId));
        var files = new FileSystemDistributedCache(store, _time);
        Assert.NotNull(await files.GetAsync(StoreKey(idleId)));
        Assert.NotNull(await files.GetAsync(StoreKey(askedId)));

        // Both fall due by half their 4-day validity (each at a spread point before it, so the asked one may already have
        // been refreshed at one of the clock's jumps); by 50 h the asked one has been refreshed, and the idle one, forgotten,
        // is never asked about again.
        fixture.Responder.ClearReceivedCertificateIds();
        _time.SetUtcNow(start + TimeSpan.FromHours(44));
        await AnswerAsync(client, proxy, askedRequest);
        _time.SetUtcNow(start + TimeSpan.FromDays(2) + TimeSpan.FromHours(2));
        await Signals.WaitAsync(
            () => proxy.Registry.GetState(askedId)?.Staple?.ThisUpdate > start + TimeSpan.FromHours(1),
            "the asked certificate's refresh",
            diagnostics: () => $"staple thisUpdate {proxy.Registry.GetState(askedId)?.Staple?.ThisUpdate}, start {start}");
        Assert.DoesNotContain(idleId, fixture.Responder.ReceivedCertificateIds);
        Assert.Null(proxy.Registry.GetState(idleId));

        // Asked again after being forgotten: a first request again, answered from the entry it left in the store (still
        // valid), without asking its responder; and kept again.
        fixture.Responder.ClearReceivedCertificateIds();
        Assert.True(OcspResponseValidator.Validate(await AnswerAsync(client, proxy, idleRequest), idle, fixture.Pki.Intermediate, _time.GetUtcNow()).IsValid);
        Assert.Empty(fixture.Responder.ReceivedCertificateIds);
        Assert.Equal(OcspStapleSource.SharedStore, proxy.Registry.GetState(idleId)!.StapleSource);
    }

    [Fact]
    public async Task FirstRequestNamedAWrongResponder_NothingIsKept_TheRightOneIsAskedNext_AndKeepsIt()
    {
        await using TestOcspResponder stranger = await TestOcspResponder.StartAsync(_time); // knows no issuer: answers unauthorized
        X509Certificate2 leaf = fixture.NewLeaf("ca-wrong-responder");
        OcspCertificateId id = OcspCertificateId.Create(leaf, fixture.Pki.Intermediate);
        await using ProxyServer proxy = await StartAsync(configure: o => o.AllowedResponders.Add(stranger.Url));
        using var client = new HttpClient();
        byte[] request = OcspRequest.Create(leaf, fixture.Pki.Intermediate).Encoded.ToArray();

        using (HttpResponseMessage wrong = await PostAsync(client, proxy, request, host: $"127.0.0.1:{stranger.Url.Port}"))
        {
            Assert.Equal(TryLater, await wrong.Content.ReadAsByteArrayAsync());
        }

        Assert.Null(proxy.Registry.GetState(id)); // nothing kept: no background retries of the wrong responder

        byte[] good = await AnswerAsync(client, proxy, request);
        Assert.True(OcspResponseValidator.Validate(good, leaf, fixture.Pki.Intermediate, _time.GetUtcNow()).IsValid);

        // Held and valid now: a client naming the other responder again gets it, and nobody is asked.
        Assert.Equal(good, await AnswerAsync(client, proxy, request, host: $"127.0.0.1:{stranger.Url.Port}"));
        Assert.Equal((1, 1), (stranger.RequestCount, fixture.Responder.RequestCount));
    }

    [Fact]
    public async Task RequestToTheProxyItself_GoesToTheCasConfiguredResponder()
    {
        X509Certificate2 leaf = fixture.NewLeaf("ca-own-responder");
        await using ProxyServer proxy = await ProxyServer.StartAsync(
            _time, fixture.NewCacheDirectory(), fixture.Pki.Intermediate, [], configure: o => o.CertificateAuthorities.Add(new(fixture.Pki.Intermediate, fixture.Responder.Url)));
        using var client = new HttpClient();
        byte[] request = OcspRequest.Create(leaf, fixture.Pki.Intermediate).Encoded.ToArray();

        byte[] first = await AnswerAsync(client, proxy, request, host: null);
        Assert.Equal(first, await AnswerAsync(client, proxy, request, host: null));

        Assert.True(OcspResponseValidator.Validate(first, leaf, fixture.Pki.Intermediate, _time.GetUtcNow()).IsValid);
        Assert.Equal(1, fixture.Responder.RequestCount);
    }

    [Fact]
    public void Options_ServerCertificateAsCa_OrBadResponder_AreRefusedAtMapTime()
    {
        var options = new OcspProxyOptions();
        options.CertificateAuthorities.Add(new OcspProxyCertificateAuthority(fixture.NewLeaf("not-a-ca")));
        options.CertificateAuthorities.Add(new OcspProxyCertificateAuthority(fixture.Pki.Intermediate, new Uri("ftp://ocsp.example/")));
        options.Cache.ForgetAfter = TimeSpan.FromSeconds(1);

        var failures = new OcspProxyOptionsValidator().Validate(null, options).Failures!.ToArray();

        Assert.Contains(failures, f => f.Contains("is not a CA certificate", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("is not an absolute http(s) URL", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("ForgetAfter", StringComparison.Ordinal));
    }

    /// <summary>The shared-store key of a CertID: its SHA-1 CertID, as the provider writes it.</summary>
    private string StoreKey(OcspCertificateId id) => new OcspSharedStoreOptions().KeyPrefix + OcspSubject.Of(id, fixture.Pki.Intermediate).Id(OcspHashAlgorithm.Sha1).CacheKey;

    private Task<ProxyServer> StartAsync(string? store = null, Action<OcspProxyOptions>? configure = null) =>
        ProxyServer.StartAsync(_time, store ?? fixture.NewCacheDirectory(), fixture.Pki.Intermediate, [], configure: o =>
        {
            o.AllowedResponders.Add(fixture.Responder.Url);
            o.CertificateAuthorities.Add(new OcspProxyCertificateAuthority(fixture.Pki.Intermediate));
            configure?.Invoke(o);
        });

    private async Task<HttpResponseMessage> PostAsync(HttpClient client, ProxyServer proxy, byte[] der, string? host = "")
    {
        using var content = new ByteArrayContent(der);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/ocsp-request");
        using var request = new HttpRequestMessage(HttpMethod.Post, proxy.Url) { Content = content };
        if (host is not null)
        {
            request.Headers.Host = host.Length > 0 ? host : ResponderHost; // the seed's convention: Host names the responder
        }

        HttpResponseMessage response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return response;
    }

    /// <summary>The proxy's answer, which must be a cacheable (max-age) successful response.</summary>
    private async Task<byte[]> AnswerAsync(HttpClient client, ProxyServer proxy, byte[] der, string? host = "")
    {
        using HttpResponseMessage response = await PostAsync(client, proxy, der, host);
        byte[] body = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.Headers.CacheControl?.MaxAge is not null, $"not answered from the store: {response.Headers.CacheControl}");
        Assert.Equal(OcspResponseStatus.Successful, OcspResponse.Parse(body).Status);
        return body;
    }

    private async Task<string> OpenSslOcspAsync(ProxyServer proxy, string leafFile, string digest)
    {
        ProgramResult result = await ExternalProgram.RunAsync(
            "openssl",
            ["ocsp", digest, "-issuer", fixture.IssuerFile, "-cert", leafFile, "-url", proxy.Url.ToString(), "-CAfile", fixture.RootFile, "-no_nonce",
                "-timeout", "20", "-header", $"Host={ResponderHost}"],
            timeout: TimeSpan.FromSeconds(30));
        Assert.True(result.ExitCode == 0, $"openssl ocsp failed:\n{result}\n{string.Join('\n', proxy.Logs.Entries.Select(e => e.Message))}");
        Assert.Contains("Response verify OK", result.StandardOutput + result.StandardError, StringComparison.Ordinal);
        return result.StandardOutput;
    }
}
