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

    private Registration Target(params Uri[] responders) => new(_pki.Leaf, _pki.Intermediate, responders, responderDisabled: false);

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
        Registration target = Target(Dead, _responder.Url);
        target.PreferredResponder = 1;
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

        Assert.Equal("HttpStatus", outcome.Reason);
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
        FetchOutcome disabled = await sut.FetchAsync(new Registration(_pki.Leaf, _pki.Intermediate, [], responderDisabled: true), Accept, CancellationToken.None);

        Assert.True(none.NothingToAsk);
        Assert.Equal("NoResponder", none.Reason);
        Assert.True(disabled.NothingToAsk);
        Assert.Equal("Disabled", disabled.Reason);
        Assert.Equal(0, _responder.RequestCount);
    }
}
