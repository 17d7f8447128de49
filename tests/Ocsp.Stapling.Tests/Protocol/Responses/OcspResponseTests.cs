using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tests.Protocol.Responses;

public sealed class OcspResponseTests(PkiFixture fixture) : IClassFixture<PkiFixture>
{
    private static readonly DateTimeOffset Now = FakeTimeProvider.DefaultStart;
    private readonly TestPki _pki = fixture.Pki;

    [Fact]
    public void Parse_DelegatedRevokedResponse_ExposesEveryField()
    {
        OcspResponseBuilder builder = OcspResponseBuilder.For(_pki.Leaf, _pki.Intermediate, Now);
        builder.Signer = _pki.DelegatedResponder;
        builder.ResponderIdByKey = true;
        builder.Status = OcspCertificateStatus.Revoked;
        builder.RevocationTime = Now.AddHours(-5);
        builder.RevocationReason = OcspRevocationReason.Superseded;
        builder.ProducedAt = Now.AddMinutes(-1);
        builder.Nonce = [1, 2, 3, 4];

        OcspResponse sut = OcspResponse.Parse(builder.Build());

        Assert.Equal(OcspResponseStatus.Successful, sut.Status);
        Assert.True(sut.IsBasic);
        Assert.Equal(OcspResponse.BasicResponseTypeOid, sut.ResponseType);
        Assert.Equal(Now.AddMinutes(-1), sut.ProducedAt);
        Assert.True(sut.ResponderId!.IsByKey);
        Assert.Equal(20, sut.ResponderId.KeyHash.Length);
        Assert.Equal([1, 2, 3, 4], sut.Nonce.ToArray());
        Assert.Equal(_pki.DelegatedResponder.RawData, Assert.Single(sut.Certificates).RawData);
        OcspSingleResponse single = Assert.Single(sut.Responses);
        Assert.Equal(OcspCertificateId.Create(_pki.Leaf, _pki.Intermediate), single.CertificateId);
        Assert.Equal(OcspCertificateStatus.Revoked, single.Status);
        Assert.Equal(Now.AddHours(-5), single.RevocationTime);
        Assert.Equal(OcspRevocationReason.Superseded, single.RevocationReason);
        Assert.Equal(Now, single.ThisUpdate);
        Assert.Equal(Now.AddDays(4), single.NextUpdate);
    }

    [Fact]
    public void Parse_ResponderIdByName_ExposesName()
    {
        OcspResponse sut = OcspResponse.Parse(OcspResponseBuilder.For(_pki.Leaf, _pki.Intermediate, Now).Build());

        Assert.False(sut.ResponderId!.IsByKey);
        Assert.Equal(_pki.Intermediate.SubjectName.Name, sut.ResponderId.Name!.Name);
        Assert.False(sut.HasNonce);
        Assert.Empty(sut.Certificates);
    }

    [Theory]
    [InlineData(OcspResponseStatus.MalformedRequest)]
    [InlineData(OcspResponseStatus.InternalError)]
    [InlineData(OcspResponseStatus.TryLater)]
    [InlineData(OcspResponseStatus.SigRequired)]
    [InlineData(OcspResponseStatus.Unauthorized)]
    public void Parse_ErrorStatuses_AreRecognised(OcspResponseStatus status)
    {
        OcspResponse sut = OcspResponse.Parse(OcspResponseBuilder.BuildStatus(status));

        Assert.Equal(status, sut.Status);
        Assert.False(sut.IsBasic);
        Assert.Empty(sut.Responses);
    }

    [Fact]
    public void Parse_UndefinedStatus4_ThrowsOcspFormatException()
    {
        // OCSPResponseStatus 4 is unused by RFC 6960.
        Assert.Throws<OcspFormatException>(() => OcspResponse.Parse([0x30, 0x03, 0x0A, 0x01, 0x04]));
    }

    [Fact]
    public void Parse_UnknownStatusSingle_IsUnknown()
    {
        OcspResponseBuilder builder = OcspResponseBuilder.For(_pki.Leaf, _pki.Intermediate, Now);
        builder.Status = OcspCertificateStatus.Unknown;
        builder.NextUpdate = null;

        OcspSingleResponse sut = Assert.Single(OcspResponse.Parse(builder.Build()).Responses);

        Assert.Equal(OcspCertificateStatus.Unknown, sut.Status);
        Assert.Null(sut.NextUpdate);
    }
}
