using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tests.Protocol.Http;

public sealed class OcspHttpEncodingTests(PkiFixture fixture) : IClassFixture<PkiFixture>
{
    private readonly TestPki _pki = fixture.Pki;

    [Fact]
    public void CreateHttpRequest_Sha1ShortSerial_UsesGet()
    {
        OcspRequest request = OcspRequest.Create(_pki.Leaf, _pki.Intermediate);

        using HttpRequestMessage sut = OcspHttpEncoding.CreateHttpRequest(new Uri("http://ocsp.test/"), request.Encoded);

        Assert.Equal(HttpMethod.Get, sut.Method);
        Assert.True(OcspHttpEncoding.EncodeForGet(request.Encoded.Span).Length <= OcspHttpEncoding.MaxGetRequestLength);
        Assert.Null(sut.Content);
    }

    [Fact]
    public void CreateHttpRequest_LongNonce_UsesPostWithOcspContentType()
    {
        OcspRequest request = OcspRequest.Create(_pki.Leaf, _pki.Intermediate, new OcspRequestOptions { IncludeNonce = true, NonceLength = 128 });

        using HttpRequestMessage sut = OcspHttpEncoding.CreateHttpRequest(new Uri("http://ocsp.test/"), request.Encoded);

        Assert.True(OcspHttpEncoding.EncodeForGet(request.Encoded.Span).Length > OcspHttpEncoding.MaxGetRequestLength);
        Assert.Equal(HttpMethod.Post, sut.Method);
        Assert.Equal("application/ocsp-request", sut.Content!.Headers.ContentType!.MediaType);
        Assert.Equal(new Uri("http://ocsp.test/"), sut.RequestUri);
    }

    [Fact]
    public void ShouldUseGet_AcrossRequestSizes_SwitchesExactlyAbove255Bytes()
    {
        OcspCertificateId id = OcspCertificateId.Create(_pki.Leaf, _pki.Intermediate, OcspHashAlgorithm.Sha256);
        var seen = new HashSet<bool>();
        for (int nonceLength = 1; nonceLength <= 128; nonceLength++)
        {
            OcspRequest request = OcspRequest.Create(id, new byte[nonceLength]);
            int encodedLength = OcspHttpEncoding.EncodeForGet(request.Encoded.Span).Length;

            bool sut = OcspHttpEncoding.ShouldUseGet(request.Encoded.Span);

            Assert.Equal(encodedLength <= 255, sut);
            seen.Add(sut);
        }

        Assert.Equal(2, seen.Count);
    }

    [Theory]
    [InlineData("http://ocsp.test", "http://ocsp.test/")]
    [InlineData("http://ocsp.test/", "http://ocsp.test/")]
    [InlineData("http://ocsp.test/path", "http://ocsp.test/path/")]
    [InlineData("http://ocsp.test/path/", "http://ocsp.test/path/")]
    [InlineData("http://ocsp.test:8080/a/b", "http://ocsp.test:8080/a/b/")]
    public void GetRequestUri_ResponderUrlShapes_AppendsOneSlashAndRequest(string responder, string expectedPrefix)
    {
        byte[] der = OcspRequest.Create(_pki.Leaf, _pki.Intermediate).Encoded.ToArray();

        Uri sut = OcspHttpEncoding.GetRequestUri(new Uri(responder), der);

        Assert.Equal(expectedPrefix + OcspHttpEncoding.EncodeForGet(der), sut.AbsoluteUri);
        Assert.Equal(der, OcspHttpEncoding.DecodeGetRequest(sut.AbsoluteUri[expectedPrefix.Length..]));
    }

    [Fact]
    public void EncodeForGet_RequestWithPlusSlashAndEquals_EscapesAndRoundTrips()
    {
        (byte[] der, string base64) = FindRequestWhoseBase64Contains('+', '/', '=');

        string sut = OcspHttpEncoding.EncodeForGet(der);

        Assert.DoesNotContain('+', sut);
        Assert.DoesNotContain('/', sut);
        Assert.DoesNotContain('=', sut);
        Assert.Contains("%2B", sut, StringComparison.Ordinal);
        Assert.Contains("%2F", sut, StringComparison.Ordinal);
        Assert.Contains("%3D", sut, StringComparison.Ordinal);
        Assert.Equal(der, OcspHttpEncoding.DecodeGetRequest(sut));
        Assert.Equal(der, OcspHttpEncoding.DecodeGetRequest(base64));
        Assert.Equal(der, OcspHttpEncoding.DecodeGetRequest("/" + base64));
        Assert.Equal(der, OcspHttpEncoding.DecodeGetRequest(
            sut.Replace("%2B", "%2b", StringComparison.Ordinal).Replace("%2F", "%2f", StringComparison.Ordinal).Replace("%3D", "%3d", StringComparison.Ordinal)));
        Assert.Equal(der, OcspHttpEncoding.DecodeGetRequest(base64.Replace('+', ' ')));
        Assert.Equal(der, OcspHttpEncoding.DecodeGetRequest(base64.TrimEnd('=')));
        Assert.Equal(OcspRequest.Decode(der).CertificateIds[0], OcspRequest.Decode(OcspHttpEncoding.DecodeGetRequest(sut)).CertificateIds[0]);
    }

    [Fact]
    public void DecodeGetRequest_LongRequests_Base64Url_LineBreaks_AndEscapedSpaces_Decode()
    {
        // Over the stack buffer (512 characters): a SHA-256 CertID with a 128-byte nonce, then with 300 bytes of padding.
        OcspCertificateId id = OcspCertificateId.Create(_pki.Leaf, _pki.Intermediate, OcspHashAlgorithm.Sha256);
        byte[] nonce = [.. Enumerable.Range(0, 128).Select(i => (byte)(i * 7))];
        byte[] der = OcspRequest.Create(id, nonce).Encoded.ToArray();
        string base64 = Convert.ToBase64String(der);
        Assert.Equal(der, OcspHttpEncoding.DecodeGetRequest(OcspHttpEncoding.EncodeForGet(der)));
        Assert.Equal(der, OcspHttpEncoding.DecodeGetRequest(base64.Replace('+', '-').Replace('/', '_')));
        Assert.Equal(der, OcspHttpEncoding.DecodeGetRequest(string.Join("\r\n", base64.Chunk(64).Select(c => new string(c)))));
        Assert.Equal(der, OcspHttpEncoding.DecodeGetRequest(base64.Replace("+", "%20", StringComparison.Ordinal)));
        byte[] large = new byte[600];
        Assert.Equal(large, OcspHttpEncoding.DecodeGetRequest(Convert.ToBase64String(large)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("/")]
    [InlineData("not*base64!")]
    [InlineData("%zz")]
    [InlineData("%")]
    [InlineData("AA%2")]
    [InlineData("%C3%A9AAA")]
    [InlineData("AA=A")]
    [InlineData("A")]
    public void DecodeGetRequest_NotBase64_ThrowsOcspFormatException(string path)
    {
        Assert.Throws<OcspFormatException>(() => OcspHttpEncoding.DecodeGetRequest(path));
    }

    private (byte[] Der, string Base64) FindRequestWhoseBase64Contains(params char[] wanted)
    {
        OcspCertificateId id = OcspCertificateId.Create(_pki.Leaf, _pki.Intermediate);
        for (int seed = 0; seed < 100_000; seed++)
        {
            // Vary the serial until the base64 has every wanted character; padding needs a length not divisible by 3.
            byte[] serial = BitConverter.GetBytes(seed + 1);
            var candidateId = new OcspCertificateId(id.HashAlgorithm, id.IssuerNameHash.Span, id.IssuerKeyHash.Span, serial);
            byte[] der = OcspRequest.Create(candidateId, ReadOnlySpan<byte>.Empty).Encoded.ToArray();
            string base64 = Convert.ToBase64String(der);
            if (wanted.All(base64.Contains))
            {
                return (der, base64);
            }
        }

        throw new InvalidOperationException("No serial produced the wanted base64 characters.");
    }

    [Theory]
    [InlineData(0, 10)]
    [InlineData(10, 10)]
    [InlineData(40_000, 40_000)]
    public async Task ReadBodyAsync_UpToTheLimit_ReturnsEveryByte(int length, int limit)
    {
        byte[] body = [.. Enumerable.Range(0, length).Select(i => (byte)i)];

        byte[]? sut = await OcspHttpEncoding.ReadBodyAsync(new TrickleStream(body), limit);

        Assert.Equal(body, sut);
    }

    [Theory]
    [InlineData(11, 10)]
    [InlineData(10_000_000, 65_536)]
    public async Task ReadBodyAsync_OverTheLimit_ReturnsNullHavingReadAtMostOneByteMore(int length, int limit)
    {
        var stream = new TrickleStream(new byte[length]);

        byte[]? sut = await OcspHttpEncoding.ReadBodyAsync(stream, limit);

        Assert.Null(sut);
        Assert.InRange(stream.Position, limit + 1, limit + TrickleStream.Chunk);
    }

    /// <summary>A body that arrives a few bytes per read, as a slow peer sends it.</summary>
    private sealed class TrickleStream(byte[] data) : MemoryStream(data, writable: false)
    {
        public const int Chunk = 7;

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, Chunk)], cancellationToken);
    }
}
