using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.Extensions.Logging;
using Ocsp.Stapling.AspNetCore.Internal;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.AspNetCore.Tests.Proxy;

/// <summary>
/// The proxy against a hostile upstream and hostile clients (issue 19, items 1, 3, 4, 9, 10): every upstream failure is
/// an OCSP tryLater (never an empty 500), redirects stay within the allowed responders, forwarded requests are limited
/// per responder, answers carry RFC 9919 headers, and a client's broken body is one Debug line.
/// </summary>
public sealed class OcspProxyHostileTests(KestrelFixture fixture) : IClassFixture<KestrelFixture>
{
    private static readonly byte[] TryLater = [0x30, 0x03, 0x0A, 0x01, 0x03];
    private readonly FakeTimeProvider _time = fixture.Reset();

    [Fact]
    public async Task Forwarded_UpstreamRedirectsToAnotherPort_TryLater_ListenerNeverReached()
    {
        await using var listener = new CountingListener();
        await using ProxyServer proxy = await StartAsync();
        fixture.Responder.Fault = ResponderFault.Redirect;
        fixture.Responder.RedirectLocation = listener.Url("ocsp").ToString();

        using HttpResponseMessage response = await ForwardAsync(proxy);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(TryLater, await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(0, listener.Connections);
        Assert.Contains(proxy.Logs.Entries, e => e.EventId == Log.ProxyUpstreamFailedId && e.Message.Contains("outside the allowed responders", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Forwarded_RedirectToAnotherAllowedResponder_Followed()
    {
        await using ProxyServer proxy = await StartAsync(o => o.AllowedResponders.Add(new Uri($"http://localhost:{fixture.Responder.Url.Port}/ocsp")));
        fixture.Responder.Fault = ResponderFault.Redirect;
        fixture.Responder.RedirectLocation = $"http://localhost:{fixture.Responder.Url.Port}{TestOcspResponder.MovedPath}/ocsp";

        using HttpResponseMessage response = await ForwardAsync(proxy);

        byte[] body = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(OcspResponseStatus.Successful, OcspResponse.Parse(body).Status);
        Assert.Equal(2, fixture.Responder.RequestCount);
    }

    [Theory]
    [InlineData(ResponderFault.Redirect, "file:///etc/passwd")]
    [InlineData(ResponderFault.Redirect, "gopher://127.0.0.1:70/_x")]
    [InlineData(ResponderFault.EndlessBody, null)]
    [InlineData(ResponderFault.EndlessChunkedBody, null)]
    [InlineData(ResponderFault.GzipBomb, null)]
    [InlineData(ResponderFault.HtmlBody, null)]
    [InlineData(ResponderFault.Http500, null)]
    [InlineData(ResponderFault.Down, null)]
    public async Task Forwarded_UpstreamMisbehaves_TryLater_WithANamedReason(ResponderFault fault, string? location)
    {
        await using ProxyServer proxy = await StartAsync();
        fixture.Responder.Fault = fault;
        fixture.Responder.RedirectLocation = location;

        using HttpResponseMessage response = await ForwardAsync(proxy);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(TryLater, await response.Content.ReadAsByteArrayAsync());
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        LogEntry failure = Assert.Single(proxy.Logs.Entries, e => e.EventId == Log.ProxyUpstreamFailedId);
        Assert.DoesNotContain("()", failure.Message, StringComparison.Ordinal); // a reason, not a blank
        Assert.DoesNotContain(proxy.Logs.Entries, e => e.Level >= LogLevel.Error);
    }

    [Fact]
    public async Task Forwarded_UpstreamTrickles_TryLaterAtTheUpstreamTimeout_OnTheClock()
    {
        await using ProxyServer proxy = await StartAsync();
        fixture.Responder.Fault = ResponderFault.Trickle;

        Task<HttpResponseMessage> pending = ForwardAsync(proxy);
        await fixture.Responder.WhenRequestCountAsync(1);
        _time.Advance(TimeSpan.FromSeconds(11)); // past OcspProxyOptions.UpstreamTimeout (10 s)
        using HttpResponseMessage response = await pending;

        Assert.Equal(TryLater, await response.Content.ReadAsByteArrayAsync());
        Assert.Contains(proxy.Logs.Entries, e => e.EventId == Log.ProxyUpstreamFailedId && e.Message.Contains("UpstreamTimeout", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Forwarded_ConcurrencyLimit_TryLaterAtOnce_CountedAndLogged()
    {
        using var refused = new RefusedForwards(fixture.Responder.Url);
        await using ProxyServer proxy = await StartAsync(o =>
        {
            o.Limits.MaxConcurrentForwardsPerResponder = 2;
            o.Limits.MaxConcurrentForwardsPerClient = 10; // one client here: the responder's limit is the one tested
            o.Limits.MaxForwardsPerSecondPerClient = 100;
        });
        fixture.Responder.Fault = ResponderFault.Slow;
        Task<HttpResponseMessage>[] held = [ForwardAsync(proxy), ForwardAsync(proxy)];
        await fixture.Responder.WhenRequestCountAsync(2);

        using (HttpResponseMessage third = await ForwardAsync(proxy))
        {
            Assert.Equal(TryLater, await third.Content.ReadAsByteArrayAsync());
            Assert.Equal(TimeSpan.FromSeconds(1), third.Headers.RetryAfter?.Delta);
        }

        Assert.Equal(2, fixture.Responder.RequestCount);
        Assert.Equal(1, refused.Count("concurrency"));
        Assert.DoesNotContain(proxy.Logs.Entries, e => e.EventId == Log.ProxySummaryId); // summarised once a minute, not per refusal

        fixture.Responder.ReleaseSlowRequests();
        foreach (HttpResponseMessage done in await Task.WhenAll(held))
        {
            Assert.Equal(OcspResponseStatus.Successful, OcspResponse.Parse(await done.Content.ReadAsByteArrayAsync()).Status);
            done.Dispose();
        }

        fixture.Responder.Fault = ResponderFault.None;
        _time.Advance(TimeSpan.FromSeconds(1));
        using HttpResponseMessage after = await ForwardAsync(proxy); // the slots came back
        Assert.Equal(OcspResponseStatus.Successful, OcspResponse.Parse(await after.Content.ReadAsByteArrayAsync()).Status);

        _time.Advance(ProxyActivity.SummaryInterval);
        LogEntry summary = Assert.Single(proxy.Logs.Entries, e => e.EventId == Log.ProxySummaryId);
        Assert.Equal(LogLevel.Warning, summary.Level);
        Assert.Contains("4 request(s)", summary.Message, StringComparison.Ordinal);
        Assert.Contains("1 refused with tryLater by a limit (0 per client", summary.Message, StringComparison.Ordinal);
        Assert.Contains("; 1 per responder)", summary.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Forwarded_RateLimit_PerSecond_OnTheClock_OneLogLinePerInterval()
    {
        using var refused = new RefusedForwards(fixture.Responder.Url);
        await using ProxyServer proxy = await StartAsync(o =>
        {
            o.Limits.MaxForwardsPerSecondPerResponder = 2;
            o.Limits.MaxForwardsPerSecondPerClient = 100; // one client here: the responder's limit is the one tested
        });

        var answers = new List<OcspResponseStatus>();
        for (int i = 0; i < 6; i++)
        {
            using HttpResponseMessage response = await ForwardAsync(proxy);
            answers.Add(OcspResponse.Parse(await response.Content.ReadAsByteArrayAsync()).Status);
        }

        Assert.Equal(2, answers.Count(a => a == OcspResponseStatus.Successful));
        Assert.Equal(4, answers.Count(a => a == OcspResponseStatus.TryLater));
        Assert.Equal(2, fixture.Responder.RequestCount);
        Assert.Equal(4, refused.Count("rate"));

        _time.Advance(TimeSpan.FromSeconds(1));
        using HttpResponseMessage refilled = await ForwardAsync(proxy);
        Assert.Equal(OcspResponseStatus.Successful, OcspResponse.Parse(await refilled.Content.ReadAsByteArrayAsync()).Status);

        _time.Advance(ProxyActivity.SummaryInterval); // 4 refusals, one line
        Assert.Contains("4 refused with tryLater by a limit", Assert.Single(proxy.Logs.Entries, e => e.EventId == Log.ProxySummaryId).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FromTheStore_Rfc9919Headers()
    {
        X509Certificate2 leaf = fixture.NewLeaf("rfc9919");
        await using ProxyServer proxy = await StartAsync(certificates: [leaf]);
        OcspStaple staple = await proxy.StapleAsync(leaf, fixture.Pki.Intermediate);
        fixture.Responder.Fault = ResponderFault.Down; // the scheduler's refreshes fail: this staple stays the one held
        _time.Advance(TimeSpan.FromDays(3) + TimeSpan.FromHours(12)); // half a day of validity left (the responder gives 4 days)
        using var client = new HttpClient();

        using HttpResponseMessage response = await client.GetAsync(new Uri(proxy.Url, OcspHttpEncoding.EncodeForGet(OcspRequest.Create(leaf, fixture.Pki.Intermediate).Encoded.Span)));

        CacheControlHeaderValue cache = response.Headers.CacheControl!;
        Assert.True(cache.Public && cache.NoTransform && cache.MustRevalidate && !cache.NoCache && !cache.NoStore && !cache.Private);
        Assert.Equal(staple.NextUpdate - _time.GetUtcNow(), cache.MaxAge); // ends at nextUpdate, not a second later
        Assert.Equal($"\"{Convert.ToHexStringLower(SHA256.HashData(staple.Encoded.Span))}\"", response.Headers.ETag?.Tag);
        Assert.Equal(staple.ThisUpdate, response.Content.Headers.LastModified);
        Assert.Equal(staple.NextUpdate, response.Content.Headers.Expires);
        Assert.Empty(response.Headers.Pragma);

        // Past nextUpdate with the responder still down: nothing is served from the store.
        _time.Advance(TimeSpan.FromHours(12));
        using HttpResponseMessage expired = await client.GetAsync(new Uri(proxy.Url, OcspHttpEncoding.EncodeForGet(OcspRequest.Create(leaf, fixture.Pki.Intermediate).Encoded.Span)));
        Assert.Equal(TryLater, await expired.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Relayed_SignedAnswer_NeverNoStore()
    {
        await using ProxyServer proxy = await StartAsync();

        using HttpResponseMessage response = await ForwardAsync(proxy);

        Assert.Equal(OcspResponseStatus.Successful, OcspResponse.Parse(await response.Content.ReadAsByteArrayAsync()).Status);
        CacheControlHeaderValue cache = response.Headers.CacheControl!;
        Assert.False(cache.NoStore || cache.NoCache);
        Assert.True(cache.Private && cache.MustRevalidate && cache.MaxAge == TimeSpan.Zero);
    }

    [Theory]
    [InlineData("Content-Length: 120\r\n\r\n0123456789", "reset")]            // the body stops, the connection goes away
    [InlineData("Transfer-Encoding: chunked\r\n\r\nZZZ\r\nabc\r\n", "chunks")] // not a chunk size
    public async Task ClientBodyBreaksOff_OneDebugLine_NoUnhandledException(string rest, string kind)
    {
        await using ProxyServer proxy = await StartAsync();
        using (var socket = new TcpClient())
        {
            await socket.ConnectAsync(IPAddress.Loopback, proxy.Port);
            NetworkStream stream = socket.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/ocsp-request\r\n{rest}"));
            if (kind == "chunks")
            {
                string answer = await new StreamReader(stream).ReadLineAsync() ?? "";
                Assert.StartsWith("HTTP/1.1 400", answer, StringComparison.Ordinal);
            }

            socket.Client.Shutdown(SocketShutdown.Both);
        }

        await proxy.Logs.WhenAsync(e => e.EventId == Log.ProxyClientFaultId).WaitAsync(TimeSpan.FromSeconds(30)); // a guard against a hang, not a timing
        await proxy.StopAsync(); // what the request left behind is logged by now
        Assert.Single(proxy.Logs.Entries, e => e.EventId == Log.ProxyClientFaultId && e.Level == LogLevel.Debug);
        Assert.DoesNotContain(proxy.Logs.Entries, e => e.Level >= LogLevel.Error);
    }

    private Task<ProxyServer> StartAsync(Action<OcspProxyOptions>? configure = null, X509Certificate2[]? certificates = null) =>
        ProxyServer.StartAsync(_time, fixture.NewCacheDirectory(), fixture.Pki.Intermediate, certificates ?? [], "/", o =>
        {
            o.AllowedResponders.Add(fixture.Responder.Url);
            configure?.Invoke(o);
        });

    /// <summary>A request the proxy must forward: a nonce, for a certificate it does not hold, with Host naming the allowed responder.</summary>
    private async Task<HttpResponseMessage> ForwardAsync(ProxyServer proxy)
    {
        X509Certificate2 leaf = fixture.NewLeaf("forwarded");
        OcspRequest request = OcspRequest.Create(OcspCertificateId.Create(leaf, fixture.Pki.Intermediate, OcspHashAlgorithm.Sha1), RandomNumberGenerator.GetBytes(32));
        var content = new ByteArrayContent(request.Encoded.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/ocsp-request");
        using var message = new HttpRequestMessage(HttpMethod.Post, proxy.Url) { Content = content };
        message.Headers.Host = fixture.Responder.Url.Authority;
        using var client = new HttpClient();
        return await client.SendAsync(message);
    }
}
