using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tests.Protocol.Requests;

public sealed class OcspRequestTests(PkiFixture fixture) : IClassFixture<PkiFixture>
{
    private readonly TestPki _pki = fixture.Pki;

    [Fact]
    public void Create_Defaults_Sha1WithoutNonce()
    {
        OcspRequest sut = OcspRequest.Create(_pki.Leaf, _pki.Intermediate);

        Assert.False(sut.HasNonce);
        OcspCertificateId id = Assert.Single(sut.CertificateIds);
        Assert.Equal(OcspHashAlgorithm.Sha1, id.HashAlgorithm);
        Assert.Equal(20, id.IssuerKeyHash.Length);
        Assert.Equal(_pki.Leaf.SerialNumber, id.SerialNumberHex);
    }

    [Theory]
    [InlineData(OcspHashAlgorithm.Sha1, 20)]
    [InlineData(OcspHashAlgorithm.Sha256, 32)]
    public void Create_HashAlgorithm_RoundTripsThroughDecode(OcspHashAlgorithm algorithm, int hashLength)
    {
        OcspRequest sut = OcspRequest.Create(_pki.Leaf, _pki.Intermediate, new OcspRequestOptions { HashAlgorithm = algorithm });

        OcspRequest decoded = OcspRequest.Decode(sut.Encoded.Span);

        OcspCertificateId id = Assert.Single(decoded.CertificateIds);
        Assert.Equal(algorithm, id.HashAlgorithm);
        Assert.Equal(hashLength, id.IssuerNameHash.Length);
        Assert.Equal(sut.CertificateIds[0], id);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(32)]
    [InlineData(128)]
    public void Create_WithNonce_EncodesNonceOfThatLength(int length)
    {
        OcspRequest sut = OcspRequest.Create(_pki.Leaf, _pki.Intermediate, new OcspRequestOptions { IncludeNonce = true, NonceLength = length });

        OcspRequest decoded = OcspRequest.Decode(sut.Encoded.Span);

        Assert.True(decoded.HasNonce);
        Assert.Equal(length, decoded.Nonce.Length);
        Assert.Equal(sut.Nonce.ToArray(), decoded.Nonce.ToArray());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(129)]
    public void Create_NonceLengthOutsideRfc9654_Throws(int length)
    {
        var options = new OcspRequestOptions { IncludeNonce = true, NonceLength = length };

        Assert.Throws<ArgumentOutOfRangeException>(() => OcspRequest.Create(_pki.Leaf, _pki.Intermediate, options));
    }

    [Fact]
    public void Create_Nonces_AreRandom()
    {
        var options = new OcspRequestOptions { IncludeNonce = true };

        OcspRequest first = OcspRequest.Create(_pki.Leaf, _pki.Intermediate, options);
        OcspRequest second = OcspRequest.Create(_pki.Leaf, _pki.Intermediate, options);

        Assert.NotEqual(first.Nonce.ToArray(), second.Nonce.ToArray());
    }

    [Fact]
    public void Create_WrongIssuer_ThrowsArgumentException()
    {
        Assert.Throws<ArgumentException>(() => OcspRequest.Create(_pki.Leaf, _pki.Root));
    }

    [Fact]
    public void Decode_Garbage_ThrowsOcspFormatException()
    {
        Assert.Throws<OcspFormatException>(() => OcspRequest.Decode([0x30, 0x03, 0x02, 0x01]));
        Assert.Throws<OcspFormatException>(() => OcspRequest.Decode([]));
        Assert.Throws<OcspFormatException>(() => OcspRequest.Decode("GET / HTTP/1.1"u8));
    }

    [Fact]
    public void Decode_TrailingBytes_ThrowsOcspFormatException()
    {
        byte[] encoded = [.. OcspRequest.Create(_pki.Leaf, _pki.Intermediate).Encoded.Span, 0x00];

        Assert.Throws<OcspFormatException>(() => OcspRequest.Decode(encoded));
    }

    [Theory]
    [InlineData(OcspHashAlgorithm.Sha1, false)]
    [InlineData(OcspHashAlgorithm.Sha256, false)]
    [InlineData(OcspHashAlgorithm.Sha384, false)]
    [InlineData(OcspHashAlgorithm.Sha512, false)]
    [InlineData(OcspHashAlgorithm.Sha1, true)]
    public void Decode_TheSingleCertificateFastPath_AgreesWithTheFullDecoder_AndLeavesEverythingElseToIt(OcspHashAlgorithm algorithm, bool highBitSerial)
    {
        // Serials with the high bit set carry a leading 0x00 in DER; both readers must give the same CertID.
        OcspCertificateId id = OcspCertificateId.Create(_pki.Leaf, _pki.Intermediate, algorithm);
        byte[] serial = highBitSerial ? [0x80, 0x01, 0x02] : id.SerialNumber.ToArray();
        var sut = new OcspCertificateId(algorithm, id.IssuerNameHash.Span, id.IssuerKeyHash.Span, serial);
        byte[] plain = OcspRequest.Create(sut, []).Encoded.ToArray();

        OcspRequest fast = Internal.OcspRequestCodec.TryDecodeSingle(plain) ?? throw new InvalidOperationException("not taken by the fast path");
        OcspRequest full = OcspRequest.Decode(plain);
        Assert.Equal(Assert.Single(full.CertificateIds), Assert.Single(fast.CertificateIds));
        Assert.Equal(sut, fast.CertificateIds[0]);
        Assert.False(fast.HasNonce);

        // With a nonce, a trailing byte, or a truncation: not the fast path's (the full decoder answers or refuses).
        byte[] withNonce = OcspRequest.Create(sut, [1, 2, 3, 4]).Encoded.ToArray();
        Assert.Null(Internal.OcspRequestCodec.TryDecodeSingle(withNonce));
        Assert.True(OcspRequest.Decode(withNonce).HasNonce);
        Assert.Null(Internal.OcspRequestCodec.TryDecodeSingle([.. plain, 0x00]));
        Assert.Null(Internal.OcspRequestCodec.TryDecodeSingle(plain[..^1]));
        Assert.Throws<OcspFormatException>(() => OcspRequest.Decode(plain.AsSpan(0, plain.Length - 1)));
    }
}
