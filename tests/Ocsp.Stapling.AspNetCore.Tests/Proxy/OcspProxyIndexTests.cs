using System.Security.Cryptography.X509Certificates;
using Ocsp.Stapling.AspNetCore.Internal;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.AspNetCore.Tests.Proxy;

public sealed class OcspProxyIndexTests(KestrelFixture fixture) : IClassFixture<KestrelFixture>
{
    private static readonly Uri Other = new("http://ocsp.other.test:8080/path");

    private OcspCertificateState State(X509Certificate2 certificate, params Uri[] responders) =>
        TestStates.Of(certificate, OcspCertificateId.Create(certificate, fixture.Pki.Intermediate), fixture.Pki.Intermediate, responders);

    [Theory]
    [InlineData(OcspHashAlgorithm.Sha1)]
    [InlineData(OcspHashAlgorithm.Sha256)]
    public void Find_ByCertIdOfEitherHash_FindsTheCertificate(OcspHashAlgorithm algorithm)
    {
        X509Certificate2 leaf = fixture.NewLeaf("index-find");
        X509Certificate2 other = fixture.NewLeaf("index-other");
        var sut = new OcspProxyIndex([State(leaf, fixture.Responder.Url), State(other, fixture.Responder.Url)], []);

        OcspProxyEntry? found = sut.Find(OcspCertificateId.Create(leaf, fixture.Pki.Intermediate, algorithm));

        Assert.Same(leaf, found!.Certificate);
        Assert.Null(sut.Find(OcspCertificateId.Create(fixture.NewLeaf("index-unknown"), fixture.Pki.Intermediate, algorithm)));
    }

    [Fact]
    public void ResponderFor_UnregisteredCertificateOfAKnownIssuer_IsThatIssuersResponder()
    {
        X509Certificate2 registered = fixture.NewLeaf("index-registered");
        var sut = new OcspProxyIndex([State(registered, fixture.Responder.Url)], []);

        Uri? own = sut.ResponderFor(OcspCertificateId.Create(registered, fixture.Pki.Intermediate));
        Uri? sibling = sut.ResponderFor(OcspCertificateId.Create(fixture.NewLeaf("index-sibling"), fixture.Pki.Intermediate));
        Uri? foreign = sut.ResponderFor(OcspCertificateId.Create(fixture.Pki.Intermediate, fixture.Pki.Root));

        Assert.Equal(fixture.Responder.Url, own);
        Assert.Equal(fixture.Responder.Url, sibling);
        Assert.Null(foreign);
    }

    [Fact]
    public void AllowedResponder_ByHostAndPort_FromTheAllowListAndTheCertificatesResponders()
    {
        var sut = new OcspProxyIndex([State(fixture.NewLeaf("index-allowed"), fixture.Responder.Url)], [Other]);
        Uri own = fixture.Responder.Url;

        Assert.Equal(Other, sut.AllowedResponder("ocsp.other.test", 8080));
        Assert.Equal(Other, sut.AllowedResponder("OCSP.OTHER.TEST.", 8080)); // case and a trailing dot do not matter
        Assert.Null(sut.AllowedResponder("ocsp.other.test", 80));
        Assert.Equal(own, sut.AllowedResponder(own.Host, own.Port));
        Assert.Null(sut.AllowedResponder("internal.example.test", 80));
    }

    [Fact]
    public void CertificateWithoutResponder_IsFound_ButNamesNoResponder()
    {
        X509Certificate2 silent = fixture.NewLeaf("index-silent", withOcspUrl: false);
        var sut = new OcspProxyIndex([State(silent)], []);
        OcspCertificateId id = OcspCertificateId.Create(silent, fixture.Pki.Intermediate);

        Assert.NotNull(sut.Find(id));
        Assert.Null(sut.ResponderFor(id));
    }

    [Fact]
    public void Remove_ForgetsTheCertificate_AndItsResponderOnceNoOtherCertificateOrTheConfigurationNamesIt()
    {
        var elsewhere = new Uri("http://ocsp.elsewhere.test/");
        X509Certificate2 one = fixture.NewLeaf("index-remove-1");
        X509Certificate2 two = fixture.NewLeaf("index-remove-2");
        X509Certificate2 third = fixture.NewLeaf("index-remove-3");
        var sut = new OcspProxyIndex([Other]);
        sut.Add(one, fixture.Pki.Intermediate, [elsewhere]);
        sut.Add(two, fixture.Pki.Intermediate, [elsewhere]);
        sut.Add(third, fixture.Pki.Intermediate, [Other]);
        sut.Add(third, fixture.Pki.Intermediate, [Other]); // idempotent

        sut.Remove(one, fixture.Pki.Intermediate);
        Assert.Null(sut.Find(OcspCertificateId.Create(one, fixture.Pki.Intermediate, OcspHashAlgorithm.Sha256)));
        Assert.Equal(elsewhere, sut.AllowedResponder(elsewhere.Host, elsewhere.Port)); // two still names it

        sut.Remove(two, fixture.Pki.Intermediate);
        sut.Remove(third, fixture.Pki.Intermediate);
        sut.Remove(third, fixture.Pki.Intermediate);
        Assert.Null(sut.AllowedResponder(elsewhere.Host, elsewhere.Port));
        Assert.Equal(Other, sut.AllowedResponder(Other.Host, Other.Port)); // configured: stays
        Assert.Null(sut.ResponderFor(OcspCertificateId.Create(one, fixture.Pki.Intermediate)));
        Assert.Equal(0, sut.Count);
    }
}
