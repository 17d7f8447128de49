using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tests.Protocol.Requests;

public sealed class OcspCertificateIdTests(PkiFixture fixture) : IClassFixture<PkiFixture>
{
    private readonly TestPki _pki = fixture.Pki;

    [Fact]
    public void Create_SameInputs_AreEqualWithEqualHashCodes()
    {
        var sut = OcspCertificateId.Create(_pki.Leaf, _pki.Intermediate);
        var other = OcspCertificateId.Create(_pki.Leaf, _pki.Intermediate);

        Assert.Equal(sut, other);
        Assert.Equal(sut.GetHashCode(), other.GetHashCode());
        Assert.Equal(sut.CacheKey, other.CacheKey);
    }

    [Fact]
    public void Create_DifferentAlgorithmOrSerial_AreNotEqual()
    {
        var sut = OcspCertificateId.Create(_pki.Leaf, _pki.Intermediate);

        Assert.NotEqual(sut, OcspCertificateId.Create(_pki.Leaf, _pki.Intermediate, OcspHashAlgorithm.Sha256));
        Assert.NotEqual(sut, OcspCertificateId.Create(_pki.LeafWithoutAia, _pki.Intermediate));
    }

    [Fact]
    public void CacheKey_NamesAlgorithmKeyHashAndSerial()
    {
        var sut = OcspCertificateId.Create(_pki.Leaf, _pki.Intermediate, OcspHashAlgorithm.Sha256);

        Assert.Equal(
            $"sha256-{Convert.ToHexStringLower(sut.IssuerKeyHash.Span)}-{_pki.Leaf.SerialNumber.ToLowerInvariant()}",
            sut.CacheKey);
    }

    [Fact]
    public void Constructor_SerialWithRedundantLeadingZero_EqualsMinimalSerial()
    {
        var sut = OcspCertificateId.Create(_pki.Leaf, _pki.Intermediate);
        byte[] padded = [0x00, .. sut.SerialNumber.Span];

        var other = new OcspCertificateId(sut.HashAlgorithm, sut.IssuerNameHash.Span, sut.IssuerKeyHash.Span, padded);

        Assert.Equal(sut, other);
    }

    [Fact]
    public void Constructor_WrongHashLength_Throws()
    {
        Assert.Throws<ArgumentException>(() => new OcspCertificateId(OcspHashAlgorithm.Sha256, new byte[20], new byte[32], [1]));
        Assert.Throws<ArgumentException>(() => new OcspCertificateId(OcspHashAlgorithm.Sha1, new byte[20], new byte[20], []));
    }
}
