using Microsoft.Extensions.DependencyInjection;
using Ocsp.Stapling.Internal;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tests.Fetching;

/// <summary>The fetcher alone: HTTP to each responder URL in turn, the caller's check as the validation step.</summary>
public sealed class OcspFetcherTests(ResponderFixture fixture) : IClassFixture<ResponderFixture>
{
    private static readonly Uri Dead = new("http://127.0.0.1:1/ocsp"); // refused at once on loopback

    private readonly FakeTimeProvider _time = fixture.Reset();
    private readonly TestOcspResponder _responder = fixture.Responder;
    private readonly TestPki _pki = fixture.Pki;

    private ProviderHost Host(Action<OcspStaplingOptions>? configure = null) => new(_time, b => b.UseMemoryOnly(), configure);

    private FetchTarget Target(params Uri[] responders) => new(OcspSubject.Of(_pki.Leaf, _pki.Intermediate), responders, ResponderDisabled: false);

    private FetchOutcome Accept(byte[] body, OcspRequest request, Uri responder)
    {
        OcspValidationResult result = OcspResponseValidator.Validate(body, _pki.Leaf, _pki.Intermediate, _time.GetUtcNow(), requestNonce: request.Nonce);
        return result.IsValid ? FetchOutcome.Success(result.Staple) : FetchOutcome.Rejected(result);
    }

    [Fact]
    public async Task FetchAsync_HandsTheBodyToTheCheck_AndReturnsWhatItAccepts()
    {
        using ProviderHost host = Host();
        var sut = host.Services.GetRequiredService<OcspFetcher>();
        var seen = new List<(int Length, Uri Responder)>();

        FetchOutcome outcome = await sut.FetchAsync(
            Target(_responder.Url), (body, request, responder) => { seen.Add((body.Length, responder)); return Accept(body, request, responder); }, CancellationToken.None);

        Assert.True(outcome.IsSuccess, outcome.Message);
        Assert.Equal(0, outcome.ResponderIndex);
        (int length, Uri from) = Assert.Single(seen);
        Assert.Equal(outcome.Staple!.Encoded.Length, length);
        Assert.Equal(_responder.Url, from);
        Assert.Equal(1, _responder.RequestCount);
    }

    [Fact]
    public async Task FetchAsync_FirstUrlDead_TriesTheNextAndSaysWhichAnswered()
    {
        using ProviderHost host = Host();
        var sut = host.Services.GetRequiredService<OcspFetcher>();

        FetchOutcome outcome = await sut.FetchAsync(Target(Dead, _responder.Url), Accept, CancellationToken.None);

        Assert.True(outcome.IsSuccess, outcome.Message);
        Assert.Equal(1, outcome.ResponderIndex);
    }

    [Fact]
    public async Task FetchAsync_PreferredResponderFirst()
    {
        using ProviderHost host = Host();
        var sut = host.Services.GetRequiredService<OcspFetcher>();
        FetchTarget target = Target(Dead, _responder.Url) with { PreferredResponder = 1 };
        var order = new List<Uri>();

        FetchOutcome outcome = await sut.FetchAsync(target, (body, request, responder) => { order.Add(responder); return Accept(body, request, responder); }, CancellationToken.None);

        Assert.Equal(1, outcome.ResponderIndex);
        Assert.Equal([_responder.Url], order);
    }

    [Fact]
    public async Task FetchAsync_CheckRejectsEveryAnswer_ReturnsTheRejectionWithItsCode()
    {
        using ProviderHost host = Host();
        var sut = host.Services.GetRequiredService<OcspFetcher>();
        _responder.Fault = ResponderFault.WrongSerial;

        FetchOutcome outcome = await sut.FetchAsync(Target(_responder.Url, _responder.Url), Accept, CancellationToken.None);

        Assert.False(outcome.IsSuccess);
        Assert.Equal(OcspValidationFailure.CertificateIdMismatch, outcome.ValidationFailure);
        Assert.Equal(2, _responder.RequestCount); // the rejection made it try the other URL
    }

    [Fact]
    public async Task FetchAsync_Http500_FailsWithTheStatus_WithoutCallingTheCheck()
    {
        using ProviderHost host = Host();
        var sut = host.Services.GetRequiredService<OcspFetcher>();
        _responder.Fault = ResponderFault.Http500;
        int checks = 0;

        FetchOutcome outcome = await sut.FetchAsync(Target(_responder.Url), (b, r, u) => { checks++; return Accept(b, r, u); }, CancellationToken.None);

        Assert.Equal(OcspFailureReason.HttpStatus, outcome.Reason);
        Assert.Contains("500", outcome.Message, StringComparison.Ordinal);
        Assert.Equal(0, checks);
    }

    [Fact]
    public async Task FetchAsync_BodyAnnouncedOverTheCap_RejectedAsTooLargeWithoutReadingIt()
    {
        using ProviderHost host = Host(o => o.Validation.MaxResponseSize = 256);
        var sut = host.Services.GetRequiredService<OcspFetcher>();
        int checks = 0;

        FetchOutcome outcome = await sut.FetchAsync(Target(_responder.Url), (b, r, u) => { checks++; return Accept(b, r, u); }, CancellationToken.None);

        Assert.Equal(OcspValidationFailure.ResponseTooLarge, outcome.ValidationFailure);
        Assert.Contains("over the 256-byte limit", outcome.Message, StringComparison.Ordinal);
        Assert.Equal(0, checks);
    }

    [Fact]
    public async Task FetchAsync_NoResponderOrDisabled_NothingToAsk_NoRequest()
    {
        using ProviderHost host = Host();
        var sut = host.Services.GetRequiredService<OcspFetcher>();

        FetchOutcome none = await sut.FetchAsync(Target(), Accept, CancellationToken.None);
        FetchOutcome disabled = await sut.FetchAsync(Target() with { ResponderDisabled = true }, Accept, CancellationToken.None);

        Assert.True(none.NothingToAsk);
        Assert.Equal(OcspFailureReason.NoResponder, none.Reason);
        Assert.True(disabled.NothingToAsk);
        Assert.Equal(OcspFailureReason.Disabled, disabled.Reason);
        Assert.Equal(0, _responder.RequestCount);
    }

    [Fact]
    public async Task FetchAsync_RetryAfterWithinTheLimit_WaitsThatLongOnTheClock_ThenRetries()
    {
        using ProviderHost host = Host(o => (o.Fetch.Retry.MaxAttempts, o.Fetch.Retry.Delay) = (2, TimeSpan.FromSeconds(1)));
        var sut = host.Services.GetRequiredService<OcspFetcher>();
        _responder.Fault = ResponderFault.Http500;
        _responder.RetryAfter = TimeSpan.FromSeconds(5);

        Task<FetchOutcome> fetch = sut.FetchAsync(Target(_responder.Url), Accept, CancellationToken.None);
        await _responder.WhenRequestCountAsync(1).WaitAsync(TimeSpan.FromSeconds(30));
        await _time.WhenTimerDueAtAsync(_time.GetUtcNow().AddSeconds(5)).WaitAsync(TimeSpan.FromSeconds(30)); // the retry waits what the responder asked

        _time.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(1, _responder.RequestCount);
        _responder.Fault = ResponderFault.None;
        _time.Advance(TimeSpan.FromSeconds(1));
        FetchOutcome outcome = await fetch.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(outcome.IsSuccess, outcome.Message);
        Assert.Equal(2, _responder.RequestCount);
    }

    [Fact]
    public async Task FetchAsync_RetryAfterOverTheLimit_IsNotWaitedFor_TheFetchFailsAtOnce()
    {
        using ProviderHost host = Host(o => (o.Fetch.Retry.MaxAttempts, o.Fetch.Retry.MaxRetryAfter) = (2, TimeSpan.FromSeconds(10)));
        var sut = host.Services.GetRequiredService<OcspFetcher>();
        _responder.Fault = ResponderFault.Http500;
        _responder.RetryAfter = TimeSpan.FromMinutes(5);

        FetchOutcome outcome = await sut.FetchAsync(Target(_responder.Url), Accept, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(OcspFailureReason.HttpStatus, outcome.Reason);
        Assert.Contains("503", outcome.Message, StringComparison.Ordinal);
        Assert.Equal(1, _responder.RequestCount);
    }

    [Fact]
    public async Task FetchAsync_ResponderKeepsFailing_CircuitOpens_TheBreakStartsShortAndDoublesWhileProbesFail_UpToTheMax()
    {
        using ProviderHost host = Host(o =>
        {
            o.Fetch.CircuitBreaker.MinimumThroughput = 4;
            o.Fetch.CircuitBreaker.FailureRatio = 0.5;
            o.Fetch.CircuitBreaker.SamplingDuration = TimeSpan.FromMinutes(1);
            o.Fetch.CircuitBreaker.BreakDuration = TimeSpan.FromSeconds(5);
            o.Fetch.CircuitBreaker.MaxBreakDuration = TimeSpan.FromSeconds(20);
        });
        var sut = host.Services.GetRequiredService<OcspFetcher>();
        _responder.Fault = ResponderFault.Http500;

        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(OcspFailureReason.HttpStatus, (await sut.FetchAsync(Target(_responder.Url), Accept, CancellationToken.None)).Reason);
        }

        FetchOutcome open = await sut.FetchAsync(Target(_responder.Url), Accept, CancellationToken.None);
        Assert.Equal(OcspFailureReason.CircuitOpen, open.Reason);
        Assert.Contains(_responder.Url.Authority, open.Message, StringComparison.Ordinal);
        Assert.Equal(4, _responder.RequestCount);

        // Each break: closed to every request until it is over, then one probe; a failed probe doubles the next (5, 10, 20, 20 s).
        int requests = 4;
        foreach (int seconds in new[] { 5, 10, 20, 20 })
        {
            _time.Advance(TimeSpan.FromSeconds(seconds) - TimeSpan.FromMilliseconds(1));
            Assert.Equal(OcspFailureReason.CircuitOpen, (await sut.FetchAsync(Target(_responder.Url), Accept, CancellationToken.None)).Reason);
            Assert.Equal(requests, _responder.RequestCount);
            _time.Advance(TimeSpan.FromMilliseconds(1));
            Assert.Equal(OcspFailureReason.HttpStatus, (await sut.FetchAsync(Target(_responder.Url), Accept, CancellationToken.None)).Reason);
            Assert.Equal(++requests, _responder.RequestCount);
        }

        // Back: the first request after the break of the moment (at most MaxBreakDuration) is answered, and the circuit closes.
        _responder.Fault = ResponderFault.None;
        _time.Advance(TimeSpan.FromSeconds(20));
        FetchOutcome recovered = await sut.FetchAsync(Target(_responder.Url), Accept, CancellationToken.None);
        Assert.True(recovered.IsSuccess, recovered.Message);
        Assert.True((await sut.FetchAsync(Target(_responder.Url), Accept, CancellationToken.None)).IsSuccess);
        Assert.Equal(requests + 2, _responder.RequestCount);
    }

    [Theory]
    [InlineData(ResponderFault.Unauthorized)]
    [InlineData(ResponderFault.MalformedRequest)]
    [InlineData(ResponderFault.Http400)]
    [InlineData(ResponderFault.WrongSerial)]
    public async Task FetchAsync_AnswersAboutOneRequest_AreNeitherRetriedNorCounted_TheCircuitStaysClosed(ResponderFault fault)
    {
        using ProviderHost host = Host(o =>
        {
            o.Fetch.Retry.MaxAttempts = 2;
            o.Fetch.CircuitBreaker.MinimumThroughput = 2;
            o.Fetch.CircuitBreaker.FailureRatio = 0.1;
            o.Fetch.MaxRequestsPerSecondPerHost = 1000; // the fake clock stands still: the host's rate limit is not this test's subject
        });
        var sut = host.Services.GetRequiredService<OcspFetcher>();
        _responder.Fault = fault;

        for (int i = 1; i <= 20; i++)
        {
            FetchOutcome refused = await sut.FetchAsync(Target(_responder.Url), Accept, CancellationToken.None);
            Assert.NotEqual(OcspFailureReason.CircuitOpen, refused.Reason);
            Assert.False(refused.Retryable);
            Assert.Equal(i, _responder.RequestCount); // asked once, never again for the same answer
        }

        _responder.Fault = ResponderFault.None;
        Assert.True((await sut.FetchAsync(Target(_responder.Url), Accept, CancellationToken.None)).IsSuccess);
    }

    [Theory]
    [InlineData(ResponderFault.TryLater)]
    [InlineData(ResponderFault.Http500)]
    [InlineData(ResponderFault.Down)]
    public async Task FetchAsync_TheResponderFailing_IsRetryableAndCounted_TheCircuitOpens(ResponderFault fault)
    {
        using ProviderHost host = Host(o =>
        {
            o.Fetch.CircuitBreaker.MinimumThroughput = 4;
            o.Fetch.CircuitBreaker.FailureRatio = 0.5;
        });
        var sut = host.Services.GetRequiredService<OcspFetcher>();
        _responder.Fault = fault;

        for (int i = 0; i < 4; i++)
        {
            FetchOutcome failed = await sut.FetchAsync(Target(_responder.Url), Accept, CancellationToken.None);
            Assert.NotEqual(OcspFailureReason.CircuitOpen, failed.Reason);
            Assert.True(failed.Retryable && failed.CountsAgainstResponder, $"{failed.Reason}: {failed.Message}");
        }

        Assert.Equal(OcspFailureReason.CircuitOpen, (await sut.FetchAsync(Target(_responder.Url), Accept, CancellationToken.None)).Reason);
        Assert.Equal(4, _responder.RequestCount);
    }

    [Theory]
    [InlineData(0, 5)]
    [InlineData(1, 10)]
    [InlineData(2, 20)]
    [InlineData(3, 30)]
    [InlineData(40, 30)]
    public void BreakDuration_DoublesPerFailedProbe_UpToTheMax(int failedProbes, int seconds)
    {
        var options = new OcspCircuitBreakerOptions { BreakDuration = TimeSpan.FromSeconds(5), MaxBreakDuration = TimeSpan.FromSeconds(30) };

        Assert.Equal(TimeSpan.FromSeconds(seconds), OcspFetcher.BreakDuration(options, failedProbes));
    }

    [Fact]
    public async Task ConfigureHttpClient_AppsOwnHandler_SeesEveryRequest()
    {
        var seen = new List<HttpMethod>();
        using var host = new ProviderHost(_time, b => b.UseMemoryOnly().ConfigureHttpClient(c => c.AddHttpMessageHandler(() => new Recording(seen))));
        var sut = host.Services.GetRequiredService<OcspFetcher>();

        FetchOutcome outcome = await sut.FetchAsync(Target(_responder.Url), Accept, CancellationToken.None);

        Assert.True(outcome.IsSuccess, outcome.Message);
        Assert.Equal([HttpMethod.Get], seen);
    }

    /// <summary>An app's own delegating handler on the fetcher's named client (a resilience handler, a proxy, headers).</summary>
    private sealed class Recording(List<HttpMethod> seen) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            seen.Add(request.Method);
            return base.SendAsync(request, cancellationToken);
        }
    }

    /// <summary>What the fetcher asks about, without a registration.</summary>
    private sealed record FetchTarget(OcspSubject Subject, IReadOnlyList<Uri> ResponderUris, bool ResponderDisabled, int PreferredResponder = 0, OcspHashAlgorithm? RequestHashAlgorithm = null)
        : IFetchTarget;
}
