using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tests.Fetching;

/// <summary>
/// A responder that redirects, trickles, never stops, compresses or answers HTML (issue 19, items 1 and 4): each fetch
/// ends within the documented timeouts and caps with a named reason, nothing reaches a host no certificate names,
/// nothing is written to the store, the held staple stays, and the bytes read stay under the response cap.
/// </summary>
public sealed class HostileResponderTests(ResponderFixture fixture) : IClassFixture<ResponderFixture>, IDisposable
{
    private const int Cap = 64 * 1024; // OcspValidationOptions.MaxResponseSize's default

    private readonly FakeTimeProvider _time = fixture.Reset();
    private readonly TestOcspResponder _responder = fixture.Responder;
    private readonly string _cacheDirectory = Directory.CreateTempSubdirectory("ocsp-hostile-").FullName;
    private readonly CountingHandler.Counter _read = new();

    public void Dispose() => Directory.Delete(_cacheDirectory, recursive: true);

    [Fact]
    public async Task Redirect_ToAnotherPort_NotFollowed_NamedReason_ListenerNeverReached()
    {
        await using var listener = new CountingListener();
        _responder.RedirectLocation = listener.Url("ocsp").ToString();

        (OcspRefreshResult result, OcspStaple held, _) = await RefreshWithFaultAsync(ResponderFault.Redirect);

        Assert.Equal(OcspFailureReason.Redirect, result.Failure?.Reason);
        Assert.Contains($"127.0.0.1:{listener.Port}", result.Failure?.Message, StringComparison.Ordinal);
        Assert.Same(held, result.Response);
        Assert.Equal(0, listener.Connections);
    }

    [Theory]
    [InlineData("file:///etc/passwd", "file:")]
    [InlineData("ftp://127.0.0.1:{port}/ocsp", "ftp:")]
    [InlineData("gopher://127.0.0.1:{port}/_GET%20/", "gopher:")]
    public async Task Redirect_ToAnotherScheme_NotFollowed_NamedReason(string location, string scheme)
    {
        await using var listener = new CountingListener();
        _responder.RedirectLocation = location.Replace("{port}", listener.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);

        (OcspRefreshResult result, OcspStaple held, _) = await RefreshWithFaultAsync(ResponderFault.Redirect);

        Assert.Equal(OcspFailureReason.Redirect, result.Failure?.Reason);
        Assert.Contains($"a {scheme} URL", result.Failure?.Message, StringComparison.Ordinal);
        Assert.Same(held, result.Response);
        Assert.Equal(0, listener.Connections);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Redirect_SameOrigin_FollowedWithTheSameMethodAndRequest(bool nonce)
    {
        X509Certificate2 leaf = fixture.NewLeaf("moved");
        using ProviderHost host = Host(o => o.Fetch.IncludeNonce = nonce);
        _responder.Fault = ResponderFault.Redirect;
        _responder.RedirectLocation = TestOcspResponder.MovedPath + "{target}"; // a GET's request is in its target
        host.Provider.Register(leaf, fixture.Pki.Intermediate);

        OcspRefreshResult result = await host.Provider.RefreshAsync(leaf);

        Assert.True(result.Succeeded, result.Failure?.Message);
        Assert.Equal(2, _responder.RequestCount);
        Assert.Single(_responder.Methods.Distinct());
    }

    [Fact]
    public async Task Redirect_SameOrigin_ButPolicyNone_NotFollowed()
    {
        X509Certificate2 leaf = fixture.NewLeaf("no-redirects");
        using ProviderHost host = Host(o => o.Fetch.Redirects = OcspRedirectPolicy.None);
        _responder.Fault = ResponderFault.Redirect;
        _responder.RedirectLocation = TestOcspResponder.MovedPath + "/ocsp";
        host.Provider.Register(leaf, fixture.Pki.Intermediate);

        OcspRefreshResult result = await host.Provider.RefreshAsync(leaf);

        Assert.Equal(OcspFailureReason.Redirect, result.Failure?.Reason);
        Assert.Contains("OcspFetchOptions.Redirects = None", result.Failure?.Message, StringComparison.Ordinal);
        Assert.Equal(1, _responder.RequestCount);
    }

    [Fact]
    public async Task Redirect_Loop_StopsAfterThreeHops()
    {
        X509Certificate2 leaf = fixture.NewLeaf("loop");
        using ProviderHost host = Host();
        _responder.Fault = ResponderFault.Redirect;
        _responder.RedirectLocation = _responder.Url.ToString(); // back to itself, for ever
        host.Provider.Register(leaf, fixture.Pki.Intermediate);

        OcspRefreshResult result = await host.Provider.RefreshAsync(leaf);

        Assert.Equal(OcspFailureReason.Redirect, result.Failure?.Reason);
        Assert.Contains("more than 3 times", result.Failure?.Message, StringComparison.Ordinal);
        Assert.Equal(4, _responder.RequestCount);
    }

    [Fact]
    public async Task TrickledBody_EndsAtTheAttemptTimeout_OnTheClock_HeldStapleKept()
    {
        (OcspRefreshResult result, OcspStaple held, bool storeUnchanged) = await RefreshWithFaultAsync(
            ResponderFault.Trickle,
            async () =>
            {
                await _responder.WhenRequestCountAsync(2);
                _time.Advance(TimeSpan.FromSeconds(11)); // past OcspFetchOptions.AttemptTimeout (10 s)
            });

        Assert.Equal(OcspFailureReason.Timeout, result.Failure?.Reason);
        Assert.Same(held, result.Response);
        Assert.True(storeUnchanged);
        Assert.True(_read.BytesRead < 1024, $"{_read.BytesRead} bytes read");
    }

    [Theory]
    [InlineData(ResponderFault.EndlessBody)]
    [InlineData(ResponderFault.EndlessChunkedBody)]
    public async Task EndlessBody_StopsAtTheCap_TooLarge(ResponderFault fault)
    {
        (OcspRefreshResult result, OcspStaple held, bool storeUnchanged) = await RefreshWithFaultAsync(fault);

        Assert.Equal((OcspFailureReason.InvalidResponse, OcspValidationFailure.ResponseTooLarge), (result.Failure?.Reason, result.Failure?.ValidationFailure));
        Assert.Same(held, result.Response);
        Assert.True(storeUnchanged);
        // Announced: refused before reading. Chunked: read up to one byte over the cap, plus what one read returned.
        Assert.True(_read.BytesRead <= Cap + (16 * 1024), $"{_read.BytesRead} bytes read");
        if (fault == ResponderFault.EndlessBody)
        {
            Assert.True(_read.BytesRead < 1024, $"{_read.BytesRead} bytes read");
        }
    }

    [Fact]
    public async Task GzipBomb_NotDecompressed_RejectedAsMalformed()
    {
        (OcspRefreshResult result, OcspStaple held, bool storeUnchanged) = await RefreshWithFaultAsync(ResponderFault.GzipBomb);

        Assert.Equal((OcspFailureReason.InvalidResponse, OcspValidationFailure.MalformedResponse), (result.Failure?.Reason, result.Failure?.ValidationFailure));
        Assert.Same(held, result.Response);
        Assert.True(storeUnchanged);
        Assert.True(_read.BytesRead <= Cap, $"{_read.BytesRead} bytes read: the 32 MiB of zeros were inflated");
    }

    [Fact]
    public async Task HtmlBody_RejectedAsMalformed_HeldStapleKept()
    {
        (OcspRefreshResult result, OcspStaple held, bool storeUnchanged) = await RefreshWithFaultAsync(ResponderFault.HtmlBody);

        Assert.Equal((OcspFailureReason.InvalidResponse, OcspValidationFailure.MalformedResponse), (result.Failure?.Reason, result.Failure?.ValidationFailure));
        Assert.Same(held, result.Response);
        Assert.True(storeUnchanged);
    }

    private ProviderHost Host(Action<OcspStaplingOptions>? configure = null) =>
        new(_time, b => b.UseFileSystemCache(_cacheDirectory).ConfigureHttpClient(c => c.AddHttpMessageHandler(() => new CountingHandler(_read))), configure);

    /// <summary>A good staple fetched and stored, then a refresh against <paramref name="fault"/>: its result, the staple held before, and whether the store's files are as they were.</summary>
    private async Task<(OcspRefreshResult Result, OcspStaple Held, bool StoreUnchanged)> RefreshWithFaultAsync(ResponderFault fault, Func<Task>? whileFetching = null)
    {
        X509Certificate2 leaf = fixture.NewLeaf(fault.ToString().ToLowerInvariant());
        using ProviderHost host = Host();
        host.Provider.Register(leaf, fixture.Pki.Intermediate);
        OcspStaple held = (await host.Provider.RefreshAsync(leaf)).Response ?? throw new InvalidOperationException("No first staple.");
        Dictionary<string, byte[]> before = Snapshot();
        _responder.Fault = fault;

        Task<OcspRefreshResult> refresh = host.Provider.RefreshAsync(leaf);
        if (whileFetching is not null)
        {
            await whileFetching();
        }

        OcspRefreshResult result = await refresh;
        Dictionary<string, byte[]> after = Snapshot();
        bool unchanged = before.Count == after.Count && before.All(f => after.TryGetValue(f.Key, out byte[]? bytes) && bytes.AsSpan().SequenceEqual(f.Value));
        Assert.NotNull(host.Provider.GetState(leaf)?.Staple);
        return (result, held, unchanged);
    }

    private Dictionary<string, byte[]> Snapshot() =>
        Directory.EnumerateFiles(_cacheDirectory, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.ReadAllBytes);
}
