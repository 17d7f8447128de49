using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tests.Certificates;

public sealed class OcspCertificateExtensionsTests(PkiFixture fixture) : IClassFixture<PkiFixture>
{
    private readonly TestPki _pki = fixture.Pki;

    [Fact]
    public void IsMustStaple_TlsFeatureWithStatusRequest_IsTrue()
    {
        Assert.True(_pki.MustStapleLeaf.IsMustStaple());
    }

    [Fact]
    public void IsMustStaple_NoTlsFeature_IsFalse()
    {
        Assert.False(_pki.Leaf.IsMustStaple());
    }

    [Fact]
    public void IsMustStaple_TlsFeatureWithoutStatusRequest_IsFalse()
    {
        // Features { status_request_v2(17) } only.
        using X509Certificate2 certificate = SelfSigned(new X509Extension("1.3.6.1.5.5.7.1.24", [0x30, 0x03, 0x02, 0x01, 0x11], false));

        Assert.False(certificate.IsMustStaple());
    }

    [Fact]
    public void GetOcspResponderUris_Aia_ReturnsHttpUrlsInOrder()
    {
        using X509Certificate2 certificate = SelfSigned(new X509AuthorityInformationAccessExtension(
            ["http://first.test/ocsp", "ldap://ignored.test/", "https://second.test/"], ["http://ca.test/ca.crt"]));

        IReadOnlyList<Uri> sut = certificate.GetOcspResponderUris();

        Assert.Equal(["http://first.test/ocsp", "https://second.test/"], sut.Select(u => u.AbsoluteUri));
    }

    [Fact]
    public void GetOcspResponderUris_LeafWithAia_ReturnsItsResponder()
    {
        Assert.Equal(_pki.OcspUrl, Assert.Single(_pki.Leaf.GetOcspResponderUris()));
    }

    [Fact]
    public void GetOcspResponderUris_NoAia_ReturnsEmpty()
    {
        Assert.Empty(_pki.LeafWithoutAia.GetOcspResponderUris());
    }

    private static X509Certificate2 SelfSigned(X509Extension extension)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=ext.test", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(extension);
        return request.CreateSelfSigned(DateTimeOffset.UnixEpoch.AddYears(50), DateTimeOffset.UnixEpoch.AddYears(70));
    }
}
