using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Ocsp.Stapling.AspNetCore.Internal;
using Ocsp.Stapling.Testing;
using Xunit.Abstractions;

namespace Ocsp.Stapling.AspNetCore.Tests.Proxy;

/// <summary>
/// The proxy with a known CA under abuse (issue 34): a client flooding with junk serials gets signed unknown answers or
/// tryLater, keeps nothing in the cache or the store, cannot delay another client's first request for a real
/// certificate, and cannot make the proxy load the CA's responder beyond its limits, during the flood or after it.
/// </summary>
public sealed class OcspProxyFloodTests(KestrelFixture fixture, ITestOutputHelper output) : IClassFixture<KestrelFixture>
{
    private static readonly byte[] TryLater = [0x30, 0x03, 0x0A, 0x01, 0x03];
    private static readonly IPAddress Flooder = IPAddress.Parse("127.0.0.2");
    private readonly FakeTimeProvider _time = fixture.Reset();

    [Fact]
    public async Task JunkFlood_FromOneAddress_AnotherClientsNewRealCertificate_IsAnsweredGoodAtOnce_NothingJunkIsKept_UpstreamWithinTheLimits_ThenZero()
    {
        X509Certificate2 real = fixture.NewLeaf("flood-real");
        OcspCertificateId realId = OcspCertificateId.Create(real, fixture.Pki.Intermediate);
        fixture.Responder.IssuedSerials = new HashSet<string>([realId.SerialNumberHex], StringComparer.Ordinal);
        string store = fixture.NewCacheDirectory();
        await using ProxyServer proxy = await StartAsync(store);
        var defaults = new OcspProxyOptions(); // what the proxy runs with
        using HttpClient flooder = SourceAddressClient.Create(Flooder);
        using var client = new HttpClient();
        int logsBefore = proxy.Logs.Entries.Count;

        // 21 fake seconds of junk, 500 requests each (10,500), from 127.0.0.2; halfway, 127.0.0.1 asks for a real
        // certificate nobody asked for before.
        const int Seconds = 21, PerSecond = 500;
        var answers = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var junkUpstreamPerSecond = new List<int>();
        var allUpstreamPerSecond = new List<int>();
        HttpResponseMessage? realAnswer = null;
        for (int second = 0; second < Seconds; second++)
        {
            int junkBefore = JunkAsked(realId), allBefore = fixture.Responder.RequestCount;
            Task flood = Parallel.ForEachAsync(Enumerable.Range(0, PerSecond), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (_, _) =>
            {
                using HttpResponseMessage response = await PostAsync(flooder, proxy, JunkSerials.RequestLike(realId));
                answers.AddOrUpdate(await ClassifyAsync(response, realId), 1, static (_, n) => n + 1);
            });
            if (second == Seconds / 2)
            {
                // Bounded as a guard against the failure this fixes (no answer at all for 30 s), not as a speed target.
                realAnswer = await PostAsync(client, proxy, OcspRequest.Create(real, fixture.Pki.Intermediate).Encoded.ToArray()).WaitAsync(TimeSpan.FromSeconds(10));
            }

            await flood;
            junkUpstreamPerSecond.Add(JunkAsked(realId) - junkBefore);
            allUpstreamPerSecond.Add(fixture.Responder.RequestCount - allBefore);
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        // The real certificate: good on its first request, cacheable, cached.
        byte[] body = await realAnswer!.Content.ReadAsByteArrayAsync();
        Assert.True(OcspResponseValidator.Validate(body, real, fixture.Pki.Intermediate, _time.GetUtcNow()).IsValid);
        Assert.Equal(OcspCertificateStatus.Good, OcspResponse.Parse(body).Responses[0].Status);
        Assert.True(realAnswer.Headers.CacheControl is { Public: true, MaxAge: not null }, realAnswer.Headers.CacheControl?.ToString());
        realAnswer.Dispose();

        // Upstream: every second within the client's allowance (so within the responder's), the junk included.
        output.WriteLine($"junk answers: {string.Join(", ", answers.OrderBy(a => a.Key).Select(a => $"{a.Key} {a.Value}"))}");
        output.WriteLine($"junk upstream requests per fake second: {string.Join(" ", junkUpstreamPerSecond)}");
        Assert.All(junkUpstreamPerSecond, n => Assert.InRange(n, 0, (int)defaults.Limits.MaxForwardsPerSecondPerClient));
        Assert.All(allUpstreamPerSecond, n => Assert.InRange(n, 0, (int)defaults.Limits.MaxForwardsPerSecondPerResponder));
        Assert.Equal(Seconds * PerSecond, answers.Values.Sum());
        Assert.Equal(answers.GetValueOrDefault("unknown"), JunkAsked(realId)); // each junk answer came from one upstream request, relayed as signed
        Assert.Equal(["tryLater", "unknown"], answers.Keys.Order(StringComparer.Ordinal));

        // Nothing junk is kept: one registration, one store entry, the real certificate's.
        Assert.Equal(realId, Assert.Single(proxy.Registry.GetStates()).CertificateId);
        Assert.Single(Directory.EnumerateFiles(store, "*.entry"));

        // The log: one summary for the minute naming the flooder, no line per request at Information or above.
        _time.Advance(ProxyActivity.SummaryInterval - TimeSpan.FromSeconds(Seconds));
        LogEntry[] lines = [.. proxy.Logs.Entries.Skip(logsBefore).Where(e => e.Category.StartsWith("Ocsp.Stapling", StringComparison.Ordinal) && e.Level >= LogLevel.Information)];
        long bytes = lines.Sum(l => (long)l.Message.Length);
        output.WriteLine($"log at Information and above during the flood: {lines.Length} line(s), {bytes} bytes for {Seconds * PerSecond + 1} requests ({(double)bytes / (Seconds * PerSecond + 1):0.00} bytes per request)");
        foreach (LogEntry line in lines)
        {
            output.WriteLine($"  [{line.EventId}] {line.Level}: {line.Message}");
        }

        LogEntry summary = Assert.Single(lines, l => l.EventId == Log.ProxySummaryId);
        Assert.Contains($"{Flooder} (", summary.Message, StringComparison.Ordinal);
        Assert.Equal(LogLevel.Warning, summary.Level);
        Assert.Single(lines, l => l.EventId == Log.ProxyCertificateIdCachedId);
        Assert.True(lines.Length <= 3, $"{lines.Length} lines");

        // After the flood: a week of quiet on the fake clock, and not one more request for a junk serial.
        int junkAfterFlood = JunkAsked(realId);
        for (int hour = 0; hour < 7 * 24; hour++)
        {
            _time.Advance(TimeSpan.FromHours(1));
        }

        Assert.Equal(junkAfterFlood, JunkAsked(realId));
    }

    [Fact]
    public async Task RequestsTheResponderRefuses_NeverCutTheProxyOffIt_ANewRealCertificateFromAnotherAddressIsAnsweredGood()
    {
        X509Certificate2 real = fixture.NewLeaf("breaker-real");
        X509Certificate2 cached = fixture.NewLeaf("breaker-cached");
        OcspCertificateId realId = OcspCertificateId.Create(real, fixture.Pki.Intermediate);
        await using ProxyServer proxy = await StartAsync(fixture.NewCacheDirectory());
        using HttpClient flooder = SourceAddressClient.Create(Flooder);
        using var client = new HttpClient();
        byte[] refreshedLater = OcspRequest.Create(cached, fixture.Pki.Intermediate).Encoded.ToArray();
        (await PostAsync(client, proxy, refreshedLater)).Dispose();
        int before = fixture.Responder.RequestCount;

        // A size-limited responder answers HTTP 400 to serials it cannot hold, and this one answers SHA-256 CertIDs unauthorized.
        fixture.Responder.FaultFor = id => id.HashAlgorithm == OcspHashAlgorithm.Sha256 ? ResponderFault.Unauthorized
            : id.SerialNumber.Length > 16 ? ResponderFault.Http400 : ResponderFault.None;
        var malformed = new byte[] { 0x30, 0x03, 0x0A, 0x01, 0x01 };
        for (int round = 0; round < 10; round++)
        {
            // Serials of 1,000 octets (RFC 5280 allows 20): answered here, never forwarded.
            byte[] overLong = OcspRequest.Create(new OcspCertificateId(OcspHashAlgorithm.Sha1, realId.IssuerNameHash.Span, realId.IssuerKeyHash.Span, RandomNumberGenerator.GetBytes(1000)), []).Encoded.ToArray();
            using (HttpResponseMessage refused = await PostAsync(flooder, proxy, overLong))
            {
                Assert.Equal(malformed, await refused.Content.ReadAsByteArrayAsync());
            }

            // Serials of 20 octets (the responder answers 400) and SHA-256 CertIDs (unauthorized): forwarded within the client's allowance.
            byte[] twentyOctets = OcspRequest.Create(new OcspCertificateId(OcspHashAlgorithm.Sha1, realId.IssuerNameHash.Span, realId.IssuerKeyHash.Span, [0x01, .. RandomNumberGenerator.GetBytes(19)]), []).Encoded.ToArray();
            byte[] sha256 = OcspRequest.Create(OcspCertificateId.Create(fixture.NewLeaf($"breaker-sha256-{round}"), fixture.Pki.Intermediate, OcspHashAlgorithm.Sha256), []).Encoded.ToArray();
            using (HttpResponseMessage refused = await PostAsync(flooder, proxy, twentyOctets))
            using (HttpResponseMessage unauthorized = await PostAsync(flooder, proxy, sha256))
            {
                Assert.Equal(TryLater, await refused.Content.ReadAsByteArrayAsync());
                Assert.Equal(TryLater, await unauthorized.Content.ReadAsByteArrayAsync());
            }

            _time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(before + 20, fixture.Responder.RequestCount); // the over-long serials never went upstream, nothing was retried

        // Another address, a certificate never asked for: asked at once and answered good.
        fixture.Responder.FaultFor = null;
        using HttpResponseMessage answer = await PostAsync(client, proxy, OcspRequest.Create(real, fixture.Pki.Intermediate).Encoded.ToArray());
        byte[] body = await answer.Content.ReadAsByteArrayAsync();
        Assert.True(OcspResponseValidator.Validate(body, real, fixture.Pki.Intermediate, _time.GetUtcNow()).IsValid, $"{body.Length} bytes: {Convert.ToHexString(body)}");
        Assert.Equal(before + 21, fixture.Responder.RequestCount);

        // And the refresh of what was cached before goes through too.
        OcspCertificateId cachedId = OcspCertificateId.Create(cached, fixture.Pki.Intermediate);
        Assert.True((await ((Ocsp.Stapling.Internal.OcspResponseProvider)proxy.Registry).RefreshAsync(cachedId)).Succeeded);
    }

    [Fact]
    public async Task UnknownSerial_IsRelayedAsSigned_CachedBriefly_NeverRegisteredStoredOrRefreshed()
    {
        X509Certificate2 real = fixture.NewLeaf("unknown-real");
        OcspCertificateId realId = OcspCertificateId.Create(real, fixture.Pki.Intermediate);
        fixture.Responder.IssuedSerials = new HashSet<string>([realId.SerialNumberHex], StringComparer.Ordinal);
        string store = fixture.NewCacheDirectory();
        await using ProxyServer proxy = await StartAsync(store);
        using var client = new HttpClient();
        byte[] junk = JunkSerials.RequestLike(realId);
        OcspCertificateId junkId = OcspRequest.Decode(junk).CertificateIds[0];

        using HttpResponseMessage first = await PostAsync(client, proxy, junk);
        byte[] body = await first.Content.ReadAsByteArrayAsync();
        OcspResponse parsed = OcspResponse.Parse(body);
        Assert.Equal(OcspResponseStatus.Successful, parsed.Status); // a valid, signed answer: not tryLater (which invites asking again)
        Assert.Equal(OcspCertificateStatus.Unknown, parsed.Responses[0].Status);
        Assert.Equal(junkId, parsed.Responses[0].CertificateId);
        Assert.True(first.Headers.CacheControl is { Public: true } cache && cache.MaxAge == new OcspProxyOptions().Cache.UnknownAnswerTime, first.Headers.CacheControl?.ToString());

        // Asked again within the unknown cache time: the same bytes, nobody asked.
        using (HttpResponseMessage again = await PostAsync(client, proxy, junk))
        {
            Assert.Equal(body, await again.Content.ReadAsByteArrayAsync());
        }

        Assert.Equal(1, fixture.Responder.RequestCount);
        Assert.Null(proxy.Registry.GetState(junkId));
        Assert.Empty(Directory.EnumerateFiles(store, "*.entry"));

        // Never refreshed in the background; asked again once the unknown cache time is over, the responder is asked again.
        for (int i = 0; i < 48; i++)
        {
            _time.Advance(TimeSpan.FromHours(1));
        }

        Assert.Equal(1, fixture.Responder.RequestCount);
        using (HttpResponseMessage later = await PostAsync(client, proxy, junk))
        {
            Assert.Equal(OcspCertificateStatus.Unknown, OcspResponse.Parse(await later.Content.ReadAsByteArrayAsync()).Responses[0].Status);
        }

        Assert.Equal(2, fixture.Responder.RequestCount);
    }

    [Fact]
    public async Task ClientAtItsConcurrencyLimit_GetsTryLaterAtOnce_AnotherClientsForwardGoesThrough()
    {
        using var refused = new RefusedForwards(fixture.Responder.Url);
        await using ProxyServer proxy = await StartAsync(fixture.NewCacheDirectory());
        var defaults = new OcspProxyOptions();
        fixture.Responder.Fault = ResponderFault.Slow;
        using HttpClient flooder = SourceAddressClient.Create(Flooder);
        using var client = new HttpClient();

        Task<HttpResponseMessage>[] held = [.. Enumerable.Range(0, defaults.Limits.MaxConcurrentForwardsPerClient).Select(_ => PostAsync(flooder, proxy, NonceRequest()))];
        await fixture.Responder.WhenRequestCountAsync(defaults.Limits.MaxConcurrentForwardsPerClient);
        using (HttpResponseMessage refusedAtOnce = await PostAsync(flooder, proxy, NonceRequest()))
        {
            Assert.Equal(TryLater, await refusedAtOnce.Content.ReadAsByteArrayAsync());
            Assert.Equal(TimeSpan.FromSeconds(1), refusedAtOnce.Headers.RetryAfter?.Delta);
        }

        Assert.Equal(1, refused.Count("client_concurrency"));
        Task<HttpResponseMessage> other = PostAsync(client, proxy, NonceRequest());
        await fixture.Responder.WhenRequestCountAsync(defaults.Limits.MaxConcurrentForwardsPerClient + 1); // reached the responder
        fixture.Responder.ReleaseSlowRequests();
        using HttpResponseMessage answered = await other;
        Assert.Equal(OcspResponseStatus.Successful, OcspResponse.Parse(await answered.Content.ReadAsByteArrayAsync()).Status);
        foreach (HttpResponseMessage done in await Task.WhenAll(held))
        {
            done.Dispose();
        }
    }

    [Fact]
    public async Task PruneHeader_ForACaCertificate_Refetches_AndForAnUnknownAnswer_AsksAgain()
    {
        X509Certificate2 real = fixture.NewLeaf("prune-ca");
        OcspCertificateId realId = OcspCertificateId.Create(real, fixture.Pki.Intermediate);
        fixture.Responder.IssuedSerials = new HashSet<string>([realId.SerialNumberHex], StringComparer.Ordinal);
        await using ProxyServer proxy = await StartAsync(fixture.NewCacheDirectory());
        using var client = new HttpClient();
        byte[] request = OcspRequest.Create(real, fixture.Pki.Intermediate).Encoded.ToArray();
        byte[] junk = JunkSerials.RequestLike(realId);

        (await PostAsync(client, proxy, request)).Dispose();
        (await PostAsync(client, proxy, junk)).Dispose();
        Assert.Equal(2, fixture.Responder.RequestCount);
        _time.Advance(TimeSpan.FromMinutes(1)); // a newer thisUpdate for the refetch

        using (HttpResponseMessage pruned = await PostAsync(client, proxy, request, prune: true))
        {
            Assert.Equal(OcspCertificateStatus.Good, OcspResponse.Parse(await pruned.Content.ReadAsByteArrayAsync()).Responses[0].Status);
        }

        Assert.Equal(3, fixture.Responder.RequestCount);
        Assert.Equal(_time.GetUtcNow(), proxy.Registry.GetState(realId)!.Staple!.ThisUpdate);
        (await PostAsync(client, proxy, junk, prune: true)).Dispose();
        Assert.Equal(4, fixture.Responder.RequestCount);
        Assert.Equal(2, proxy.Logs.Entries.Count(e => e.EventId == Log.ProxyPrunedId));
    }

    [Fact]
    public void ClientKeys_IPv4ByAddress_IPv6BySlash64_MappedAddressesAsIPv4()
    {
        Assert.Equal(ClientLimits.KeyOf(IPAddress.Parse("2001:db8:1:2::1")), ClientLimits.KeyOf(IPAddress.Parse("2001:db8:1:2:ffff:ffff:ffff:ffff")));
        Assert.NotEqual(ClientLimits.KeyOf(IPAddress.Parse("2001:db8:1:2::1")), ClientLimits.KeyOf(IPAddress.Parse("2001:db8:1:3::1")));
        Assert.Equal(ClientLimits.KeyOf(IPAddress.Parse("192.0.2.7")), ClientLimits.KeyOf(IPAddress.Parse("::ffff:192.0.2.7")));
        Assert.NotEqual(ClientLimits.KeyOf(IPAddress.Parse("192.0.2.7")), ClientLimits.KeyOf(IPAddress.Parse("192.0.2.8")));
        Assert.NotEqual(ClientLimits.KeyOf(IPAddress.Parse("::")), ClientLimits.KeyOf(IPAddress.Parse("0.0.0.0")));
        Assert.Equal("2001:db8:1:2::/64", ClientLimits.Describe(ClientLimits.KeyOf(IPAddress.Parse("2001:db8:1:2::1"))));
        Assert.Equal("192.0.2.7", ClientLimits.Describe(ClientLimits.KeyOf(IPAddress.Parse("192.0.2.7"))));
    }

    [Fact]
    public void ClientTable_IsBounded_IdleClientsAreDropped_BusyOnesShareTheOverflow()
    {
        var limits = new ClientLimits(new OcspProxyOptions { Limits = { MaxConcurrentForwardsPerClient = 1 } }, _time);
        var leases = new List<IDisposable>();
        for (int i = 0; i < ClientLimits.MaxClients; i++)
        {
            leases.Add(limits.TryEnter(new IPAddress(0x0A000000 + i), out _)!); // 10.x.y.z, each holding its one slot
        }

        // The table is full of busy clients: a newcomer shares the overflow allowance (one slot here), memory stays put.
        Assert.NotNull(limits.TryEnter(IPAddress.Parse("192.0.2.1"), out _));
        Assert.Null(limits.TryEnter(IPAddress.Parse("192.0.2.2"), out ProxyLimit? limit));
        Assert.Equal(ProxyLimit.ClientConcurrency, limit);
        Assert.InRange(limits.Count, ClientLimits.MaxClients, ClientLimits.MaxClients + 1);

        // Once they are idle (and a second has passed since the last sweep), they are dropped for newcomers.
        leases.ForEach(l => l.Dispose());
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.NotNull(limits.TryEnter(IPAddress.Parse("192.0.2.3"), out _));
        Assert.True(limits.Count < 10, $"{limits.Count} clients tracked");
    }

    private int JunkAsked(OcspCertificateId real) => fixture.Responder.ReceivedCertificateIds.Count(id => !id.Equals(real));

    private static async Task<string> ClassifyAsync(HttpResponseMessage response, OcspCertificateId real)
    {
        byte[] body = await response.Content.ReadAsByteArrayAsync();
        if (body.AsSpan().SequenceEqual(TryLater))
        {
            return "tryLater";
        }

        OcspResponse parsed = OcspResponse.Parse(body);
        return parsed.Status == OcspResponseStatus.Successful && parsed.Responses[0].Status == OcspCertificateStatus.Unknown && !parsed.Responses[0].CertificateId.Equals(real)
            ? "unknown"
            : $"unexpected: {parsed.Status} {(parsed.Status == OcspResponseStatus.Successful ? parsed.Responses[0].Status : "")}";
    }

    /// <summary>A request the proxy must forward: a nonce.</summary>
    private OcspRequest NonceRequestFor(X509Certificate2 leaf) =>
        OcspRequest.Create(OcspCertificateId.Create(leaf, fixture.Pki.Intermediate, OcspHashAlgorithm.Sha1), RandomNumberGenerator.GetBytes(32));

    private byte[] NonceRequest() => NonceRequestFor(fixture.NewLeaf("nonce-flood")).Encoded.ToArray();

    private Task<ProxyServer> StartAsync(string store) =>
        ProxyServer.StartAsync(_time, store, fixture.Pki.Intermediate, [], configure: o =>
        {
            o.AllowedResponders.Add(fixture.Responder.Url);
            o.CertificateAuthorities.Add(new OcspProxyCertificateAuthority(fixture.Pki.Intermediate));
        });

    private async Task<HttpResponseMessage> PostAsync(HttpClient client, ProxyServer proxy, byte[] der, bool prune = false)
    {
        using var content = new ByteArrayContent(der);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/ocsp-request");
        using var request = new HttpRequestMessage(HttpMethod.Post, proxy.Url) { Content = content };
        request.Headers.Host = fixture.Responder.Url.Authority; // the seed's convention: Host names the responder
        if (prune)
        {
            request.Headers.Add(OcspProxy.PruneHeader, "1");
        }

        HttpResponseMessage response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return response;
    }
}
