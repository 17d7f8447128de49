using System.Net;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tests.Testing;

public sealed class TestOcspResponderTests(PkiFixture fixture) : IClassFixture<PkiFixture>, IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new();
    private readonly HttpClient _client = new() { Timeout = TimeSpan.FromSeconds(30) };
    private TestOcspResponder _sut = null!;

    public async Task InitializeAsync()
    {
        _sut = await TestOcspResponder.StartAsync(_time);
        _sut.AddIssuer(fixture.Pki.Intermediate);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _sut.DisposeAsync();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Request_GetOrPost_AnsweredWithValidResponseAndCounted(bool post)
    {
        OcspRequest request = OcspRequest.Create(fixture.Pki.Leaf, fixture.Pki.Intermediate, new OcspRequestOptions { IncludeNonce = post, NonceLength = 128 });

        byte[] body = await SendAsync(request, expectPost: post);

        OcspValidationResult result = OcspResponseValidator.Validate(body, fixture.Pki.Leaf, fixture.Pki.Intermediate, _time.GetUtcNow(), requestNonce: request.Nonce);
        Assert.True(result.IsValid, result.Message);
        Assert.Equal(_time.GetUtcNow() + _sut.Validity, result.Staple.NextUpdate);
        Assert.Equal(1, _sut.RequestCount);
        Assert.Equal(post ? "POST" : "GET", Assert.Single(_sut.Methods));
    }

    [Fact]
    public async Task Request_DelegatedSignerAndRevocation_Honoured()
    {
        _sut.AddIssuer(fixture.Pki.Intermediate, fixture.Pki.DelegatedResponder);
        _sut.Revoke(fixture.Pki.Leaf, _time.GetUtcNow().AddDays(-1), OcspRevocationReason.CessationOfOperation);

        byte[] body = await SendAsync(OcspRequest.Create(fixture.Pki.Leaf, fixture.Pki.Intermediate));

        OcspValidationResult result = OcspResponseValidator.Validate(body, fixture.Pki.Leaf, fixture.Pki.Intermediate, _time.GetUtcNow());
        Assert.True(result.IsValid, result.Message);
        Assert.Equal(OcspCertificateStatus.Revoked, result.Staple.Status);
        Assert.Equal(OcspRevocationReason.CessationOfOperation, result.Staple.RevocationReason);
        Assert.Single(result.Response.Certificates);
    }

    [Theory]
    [InlineData(ResponderFault.HtmlBody, OcspValidationFailure.MalformedResponse)]
    [InlineData(ResponderFault.Garbage, OcspValidationFailure.MalformedResponse)]
    [InlineData(ResponderFault.TryLater, OcspValidationFailure.UnsuccessfulStatus)]
    [InlineData(ResponderFault.Unauthorized, OcspValidationFailure.UnsuccessfulStatus)]
    [InlineData(ResponderFault.WrongSerial, OcspValidationFailure.CertificateIdMismatch)]
    [InlineData(ResponderFault.WrongSigner, OcspValidationFailure.UnauthorizedSigner)]
    [InlineData(ResponderFault.Expired, OcspValidationFailure.Expired)]
    public async Task Fault_AnswersWithBodyTheValidatorRejects(ResponderFault fault, OcspValidationFailure expected)
    {
        _sut.Fault = fault;

        byte[] body = await SendAsync(OcspRequest.Create(fixture.Pki.Leaf, fixture.Pki.Intermediate));

        Assert.Equal(expected, OcspResponseValidator.Validate(body, fixture.Pki.Leaf, fixture.Pki.Intermediate, _time.GetUtcNow()).Failure);
    }

    [Fact]
    public async Task Fault_Http500_Returns500()
    {
        _sut.Fault = ResponderFault.Http500;
        OcspRequest request = OcspRequest.Create(fixture.Pki.Leaf, fixture.Pki.Intermediate);

        using HttpResponseMessage response = await _client.SendAsync(OcspHttpEncoding.CreateHttpRequest(_sut.Url, request.Encoded));

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
    }

    [Fact]
    public async Task Fault_Down_DropsConnectionButCounts()
    {
        _sut.Fault = ResponderFault.Down;
        OcspRequest request = OcspRequest.Create(fixture.Pki.Leaf, fixture.Pki.Intermediate);

        await Assert.ThrowsAsync<HttpRequestException>(() => _client.SendAsync(OcspHttpEncoding.CreateHttpRequest(_sut.Url, request.Encoded)));
        Assert.Equal(1, _sut.RequestCount);
    }

    [Fact]
    public async Task Fault_Slow_HoldsRequestUntilReleased()
    {
        _sut.Fault = ResponderFault.Slow;
        OcspRequest request = OcspRequest.Create(fixture.Pki.Leaf, fixture.Pki.Intermediate);

        Task<HttpResponseMessage> pending = _client.SendAsync(OcspHttpEncoding.CreateHttpRequest(_sut.Url, request.Encoded));
        await _sut.WhenRequestCountAsync(1).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.False(pending.IsCompleted);
        _sut.ReleaseSlowRequests();
        using HttpResponseMessage response = await pending.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(OcspResponseValidator.Validate(
            await response.Content.ReadAsByteArrayAsync(), fixture.Pki.Leaf, fixture.Pki.Intermediate, _time.GetUtcNow()).IsValid);
    }

    [Fact]
    public async Task Request_UnknownIssuer_AnsweredUnauthorized()
    {
        using var other = TestPki.Create(now: FakeTimeProvider.DefaultStart);

        byte[] body = await SendAsync(OcspRequest.Create(other.Leaf, other.Intermediate));

        Assert.Equal(OcspResponseStatus.Unauthorized, OcspResponse.Parse(body).Status);
    }

    [Fact]
    public async Task Request_Malformed_AnsweredMalformedRequest()
    {
        using var content = new ByteArrayContent([0x30, 0x01, 0x00]);

        using HttpResponseMessage response = await _client.PostAsync(_sut.Url, content);

        Assert.Equal(OcspResponseStatus.MalformedRequest, OcspResponse.Parse(await response.Content.ReadAsByteArrayAsync()).Status);
    }

    private async Task<byte[]> SendAsync(OcspRequest request, bool? expectPost = null)
    {
        using HttpRequestMessage message = OcspHttpEncoding.CreateHttpRequest(_sut.Url, request.Encoded);
        if (expectPost is { } post)
        {
            Assert.Equal(post ? HttpMethod.Post : HttpMethod.Get, message.Method);
        }

        using HttpResponseMessage response = await _client.SendAsync(message);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsByteArrayAsync();
    }
}
