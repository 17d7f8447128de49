using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Ocsp.Stapling.Internal;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tests.Fetching;

/// <summary>
/// Behind a firewall (issue 29, item 1): responders asked through a real forward proxy (tinyproxy) when configured, the
/// environment's otherwise, directly when told; a proxy that asks for credentials, is down or hangs is a failure with
/// its own reason, and credentials never reach a log or a message.
/// </summary>
public sealed class OutboundProxyTests(ResponderFixture fixture) : IClassFixture<ResponderFixture>, IDisposable
{
    private const string Password = "s3cret-Passw0rd";
    private readonly FakeTimeProvider _time = fixture.Reset();
    private readonly TestOcspResponder _responder = fixture.Responder;
    private readonly string _directory = Directory.CreateTempSubdirectory("ocsp-outbound-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [SkippableFact]
    public async Task ResponderReachableOnlyThroughTheProxy_IsAskedThroughIt_AndNotWithoutIt()
    {
        Requires.Programs("tinyproxy");
        await using ForwardProxy proxy = await ForwardProxy.StartAsync(_directory);
        _responder.RequireVia = true;
        X509Certificate2 leaf = fixture.NewLeaf("through-proxy");

        using (ProviderHost through = Host(o => o.Fetch.Proxy.Address = proxy.Url))
        {
            OcspRefreshResult result = await RefreshAsync(through, leaf);
            Assert.True(result.Succeeded, result.Failure?.ToString());
            Assert.Equal(OcspCertificateStatus.Good, result.Response!.Status);
        }

        Assert.Equal((1, 0), (_responder.RequestCount, _responder.DirectRequestCount));
        Assert.Contains(_responder.Url.Authority, proxy.Log, StringComparison.Ordinal);

        using ProviderHost direct = Host(o => o.Fetch.Proxy.UseEnvironment = false);
        OcspRefreshResult refused = await RefreshAsync(direct, leaf);
        Assert.Equal(OcspFailureReason.ConnectionFailed, refused.Failure?.Reason);
        Assert.Equal((1, 1), (_responder.RequestCount, _responder.DirectRequestCount));
    }

    [SkippableFact]
    public async Task ProxyAsksForCredentials_407And401AreItsOwnReason_TheRightOnesWork_NoLogOrMessageHoldsThem()
    {
        Requires.Programs("tinyproxy");
        await using ForwardProxy proxy = await ForwardProxy.StartAsync(_directory, "ocsp", Password);
        _responder.RequireVia = true;
        X509Certificate2 leaf = fixture.NewLeaf("proxy-auth");
        var logs = new List<string>();

        foreach ((Uri address, bool works) in new[] { (proxy.Url, false), (proxy.UrlWith("ocsp", "wrong"), false), (proxy.UrlWith("ocsp", Password), true) })
        {
            using ProviderHost host = Host(o => o.Fetch.Proxy.Address = address);
            OcspRefreshResult result = await RefreshAsync(host, leaf);
            logs.AddRange(host.Logs.Entries.Select(e => e.Message));
            if (works)
            {
                Assert.True(result.Succeeded, result.Failure?.ToString());
                continue;
            }

            Assert.True(result.Failure?.Reason == OcspFailureReason.ProxyFailed, result.Failure?.ToString());
            Assert.Matches(address.UserInfo.Length > 0 ? "40[17]" : "407", result.Failure!.Message); // tinyproxy answers wrong credentials with 401
            Assert.Contains($"http://{proxy.Url.Authority}", result.Failure.Message, StringComparison.Ordinal);
            Assert.Contains(address.UserInfo.Length > 0 ? "not accepted" : "no credentials", result.Failure.Message, StringComparison.Ordinal);
        }

        Assert.Equal(1, _responder.RequestCount);
        Assert.NotEmpty(logs);
        Assert.DoesNotContain(logs, l => l.Contains(Password, StringComparison.Ordinal) || l.Contains("wrong@", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ProxyDown_IsProxyFailed_NamingIt()
    {
        int closed;
        using (var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            listener.Start();
            closed = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        }

        using ProviderHost host = Host(o => o.Fetch.Proxy.Address = new Uri($"http://user:{Password}@127.0.0.1:{closed}/"));
        OcspRefreshResult result = await RefreshAsync(host, fixture.NewLeaf("proxy-down"));

        Assert.Equal(OcspFailureReason.ProxyFailed, result.Failure?.Reason);
        Assert.Contains($"The outbound proxy http://127.0.0.1:{closed} cannot be reached", result.Failure!.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, result.Failure.Message, StringComparison.Ordinal);
        Assert.Equal(0, _responder.RequestCount);
    }

    [Fact]
    public async Task ProxyHangs_TheAttemptTimesOut_OnTheClock_TheMessageNamesTheProxy()
    {
        await using var hanging = new TcpRelay("127.0.0.1", 9);
        hanging.Hang();
        using ProviderHost host = Host(o => o.Fetch.Proxy.Address = new Uri($"http://127.0.0.1:{hanging.Port}/"));
        X509Certificate2 leaf = fixture.NewLeaf("proxy-hangs");
        host.Provider.Register(leaf, fixture.Pki.Intermediate);

        Task<OcspRefreshResult> refresh = host.Provider.RefreshAsync(leaf);
        await _time.WhenActiveTimersAsync(2); // the attempt's and the fetch's timeouts are running
        await hanging.WhenAcceptedAsync().WaitAsync(TimeSpan.FromSeconds(30)); // and the connection reached the proxy (a guard, not a timing)
        _time.Advance(new OcspFetchOptions().AttemptTimeout);
        OcspRefreshResult result = await refresh.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(OcspFailureReason.Timeout, result.Failure?.Reason);
        Assert.Contains($"through the outbound proxy http://127.0.0.1:{hanging.Port}", result.Failure!.Message, StringComparison.Ordinal);
        Assert.True(hanging.Accepted >= 1);
    }

    [SkippableFact]
    public async Task BypassedHost_IsAskedDirectly()
    {
        Requires.Programs("tinyproxy");
        await using ForwardProxy proxy = await ForwardProxy.StartAsync(_directory);
        using ProviderHost host = Host(o =>
        {
            o.Fetch.Proxy.Address = proxy.Url;
            o.Fetch.Proxy.Bypass.Add("127.0.0.1");
        });

        OcspRefreshResult result = await RefreshAsync(host, fixture.NewLeaf("bypassed"));

        Assert.True(result.Succeeded, result.Failure?.ToString());
        Assert.DoesNotContain(_responder.Url.Authority, proxy.Log, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task HttpsResponder_IsAskedThroughACONNECTTunnel()
    {
        Requires.Programs("tinyproxy");
        await using ForwardProxy proxy = await ForwardProxy.StartAsync(_directory);
        using X509Certificate2 tls = fixture.Pki.IssueLeaf("localhost", ocspUrl: null, notBefore: TimeProvider.System.GetUtcNow().AddDays(-1), notAfter: TimeProvider.System.GetUtcNow().AddDays(7));
        await using TestOcspResponder secure = await TestOcspResponder.StartAsync(_time, tls);
        secure.AddIssuer(fixture.Pki.Intermediate);
        X509Certificate2 leaf = fixture.Pki.IssueLeaf("https-responder.test", secure.Url);

        using ProviderHost host = Host(
            o => o.Fetch.Proxy.Address = proxy.Url,
            client => client.ConfigurePrimaryHttpMessageHandler((handler, _) =>
                ((SocketsHttpHandler)handler).SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                    certificate?.GetCertHashString() == tls.GetCertHashString() && (errors & SslPolicyErrors.RemoteCertificateNameMismatch) == 0));
        OcspRefreshResult result = await RefreshAsync(host, leaf);

        Assert.True(result.Succeeded, result.Failure?.ToString());
        Assert.Equal(1, secure.RequestCount);
        Assert.Contains($"CONNECT localhost:{secure.Url.Port}", proxy.Log, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ocsp.example", "http://ocsp.example/", true)]
    [InlineData("ocsp.example", "http://a.ocsp.example/", true)]
    [InlineData("ocsp.example", "http://notocsp.example/", false)]
    [InlineData(".example", "http://ocsp.example/", true)]
    [InlineData(".example", "http://example/", false)]
    [InlineData("*", "http://anything.test:8080/", true)]
    [InlineData("::1", "http://[::1]:8080/", true)]
    public void Bypass_ReadsAsNoProxyDoes(string entry, string responder, bool bypassed)
    {
        var options = new OcspOutboundProxyOptions { Address = new Uri("http://proxy.test:3128/") };
        options.Bypass.Add(entry);

        Assert.Equal(bypassed, OutboundProxy.For(new Uri(responder), options) is null);
    }

    [Fact]
    public void Describe_NeverShowsCredentials()
    {
        var options = new OcspOutboundProxyOptions { Address = new Uri($"http://user:{Password}@proxy.test:3128/") };

        Assert.Equal("http://proxy.test:3128", OutboundProxy.Describe(options.Address));
        Assert.DoesNotContain(Password, OutboundProxy.DescribeSetting(options), StringComparison.Ordinal);
        Assert.Contains("with credentials", OutboundProxy.DescribeSetting(options), StringComparison.Ordinal);
        Assert.Equal("connect to http://proxy.test:3128/ failed", OutboundProxy.Scrub($"connect to http://user:{Password}@proxy.test:3128/ failed"));
        Assert.Null(OutboundProxy.DescribeSetting(new OcspOutboundProxyOptions { UseEnvironment = false }));
    }

    private ProviderHost Host(Action<OcspStaplingOptions> configure, Action<IHttpClientBuilder>? client = null) =>
        new(_time, b =>
        {
            b.UseMemoryOnly();
            if (client is not null)
            {
                b.ConfigureHttpClient(client);
            }
        }, configure);

    private async Task<OcspRefreshResult> RefreshAsync(ProviderHost host, X509Certificate2 leaf)
    {
        host.Provider.Register(leaf, fixture.Pki.Intermediate);
        return await host.Provider.RefreshAsync(leaf).WaitAsync(TimeSpan.FromSeconds(60)); // a guard against a hang, not a timing
    }
}
