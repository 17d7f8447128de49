using System.Security.Cryptography;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tests.Protocol.Validation;

public sealed class OcspResponseValidatorTests(PkiFixture fixture) : IClassFixture<PkiFixture>
{
    private static readonly DateTimeOffset Now = FakeTimeProvider.DefaultStart;
    private readonly TestPki _pki = fixture.Pki;

    private OcspResponseBuilder Builder() => OcspResponseBuilder.For(_pki.Leaf, _pki.Intermediate, Now);

    private OcspValidationResult Validate(byte[] response, OcspValidationOptions? options = null, byte[]? nonce = null) =>
        OcspResponseValidator.Validate(response, _pki.Leaf, _pki.Intermediate, Now, options, nonce);

    [Fact]
    public void Validate_OneSignerOnEveryCore_EachVerdictIsItsOwn()
    {
        // A warm start validates thousands of one CA's responses at once: the signer's key objects are pooled, one per
        // concurrent verification. Good and tampered responses interleaved: every verdict must match its own response.
        byte[] good = Builder().Build();
        byte[] tampered = [.. good];
        tampered[^1] ^= 0x01; // the last byte of the signature
        var verdicts = new System.Collections.Concurrent.ConcurrentBag<(bool Tampered, bool Valid)>();

        Parallel.For(0, 2000, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(4, Environment.ProcessorCount * 2) }, i =>
        {
            bool bad = i % 3 == 0;
            verdicts.Add((bad, Validate(bad ? tampered : good).IsValid));
        });

        Assert.Equal(2000, verdicts.Count);
        Assert.All(verdicts, v => Assert.NotEqual(v.Tampered, v.Valid));
    }

    [Fact]
    public void Validate_GoodResponseSignedByIssuer_IsAccepted()
    {
        OcspResponseBuilder builder = Builder();
        byte[] der = builder.Build();

        OcspValidationResult sut = Validate(der);

        Assert.True(sut.IsValid, sut.Message);
        Assert.Equal(OcspValidationFailure.None, sut.Failure);
        Assert.Equal(OcspCertificateStatus.Good, sut.Staple.Status);
        Assert.Equal(der, sut.Staple.Encoded.ToArray());
        Assert.Equal(builder.ThisUpdate, sut.Staple.ThisUpdate);
        Assert.Equal(builder.NextUpdate, sut.Staple.NextUpdate);
        Assert.Equal(builder.ProducedAt, sut.Staple.ProducedAt);
        Assert.Equal(Now, sut.Staple.FetchedAt);
        Assert.Equal(OcspCertificateId.Create(_pki.Leaf, _pki.Intermediate), sut.Staple.CertificateId);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Validate_GoodResponseFromDelegatedResponder_IsAccepted(bool byKey)
    {
        OcspResponseBuilder builder = Builder();
        builder.Signer = _pki.DelegatedResponder;
        builder.ResponderIdByKey = byKey;

        OcspValidationResult sut = Validate(builder.Build());

        Assert.True(sut.IsValid, sut.Message);
    }

    [Fact]
    public void Validate_IssuerSignedResponderIdByKey_IsAccepted()
    {
        OcspResponseBuilder builder = Builder();
        builder.ResponderIdByKey = true;

        Assert.True(Validate(builder.Build()).IsValid);
    }

    [Fact]
    public void Validate_Sha256CertId_IsAccepted()
    {
        byte[] der = OcspResponseBuilder.For(_pki.Leaf, _pki.Intermediate, Now, OcspHashAlgorithm.Sha256).Build();

        OcspValidationResult sut = Validate(der);

        Assert.True(sut.IsValid, sut.Message);
        Assert.Equal(OcspHashAlgorithm.Sha256, sut.Staple.CertificateId.HashAlgorithm);
    }

    [Fact]
    public void Validate_RevokedResponse_IsValidWithRevocationDetails()
    {
        OcspResponseBuilder builder = Builder();
        builder.Status = OcspCertificateStatus.Revoked;
        builder.RevocationTime = Now.AddDays(-3);
        builder.RevocationReason = OcspRevocationReason.KeyCompromise;

        OcspValidationResult sut = Validate(builder.Build());

        Assert.True(sut.IsValid, sut.Message);
        Assert.Equal(OcspCertificateStatus.Revoked, sut.Staple.Status);
        Assert.Equal(Now.AddDays(-3), sut.Staple.RevocationTime);
        Assert.Equal(OcspRevocationReason.KeyCompromise, sut.Staple.RevocationReason);
    }

    [Fact]
    public void Validate_UnknownStatus_IsValidWithUnknownStatus()
    {
        OcspResponseBuilder builder = Builder();
        builder.Status = OcspCertificateStatus.Unknown;

        OcspValidationResult sut = Validate(builder.Build());

        Assert.True(sut.IsValid, sut.Message);
        Assert.Equal(OcspCertificateStatus.Unknown, sut.Staple.Status);
    }

    [Fact]
    public void Validate_NextUpdateAfterCertificateNotAfter_IsAccepted()
    {
        OcspResponseBuilder builder = Builder();
        builder.NextUpdate = _pki.Leaf.NotAfter.ToUniversalTime().AddDays(30);

        OcspValidationResult sut = Validate(builder.Build());

        Assert.True(sut.IsValid, sut.Message);
        Assert.True(sut.Staple.NextUpdate > _pki.Leaf.NotAfter);
    }

    [Fact]
    public void Validate_OurResponseAmongOthers_PicksOurs()
    {
        OcspResponseBuilder builder = Builder();
        builder.ExtraResponses.Add(OcspCertificateId.Create(_pki.LeafWithoutAia, _pki.Intermediate));

        OcspValidationResult sut = Validate(builder.Build());

        Assert.True(sut.IsValid, sut.Message);
        Assert.Equal(OcspCertificateId.Create(_pki.Leaf, _pki.Intermediate), sut.Staple.CertificateId);
    }

    [Fact]
    public void Validate_MissingNextUpdate_GetsDefaultLifetimeOfOneHour()
    {
        OcspResponseBuilder builder = Builder();
        builder.NextUpdate = null;

        OcspValidationResult sut = Validate(builder.Build());

        Assert.True(sut.IsValid, sut.Message);
        Assert.Equal(builder.ThisUpdate + TimeSpan.FromHours(1), sut.Staple.NextUpdate);
    }

    [Fact]
    public void Validate_ResponseOverSizeCap_IsRejectedAsTooLarge()
    {
        byte[] der = Builder().Build();

        OcspValidationResult sut = Validate(der, new OcspValidationOptions { MaxResponseSize = der.Length - 1 });

        Assert.Equal(OcspValidationFailure.ResponseTooLarge, sut.Failure);
        Assert.Null(sut.Staple);
    }

    [Fact]
    public void Validate_DefaultSizeCap_Is64KiB()
    {
        byte[] oversized = new byte[(64 * 1024) + 1];

        Assert.Equal(OcspValidationFailure.ResponseTooLarge, Validate(oversized).Failure);
        Assert.Equal(OcspValidationFailure.MalformedResponse, Validate(new byte[64 * 1024]).Failure);
    }

    [Fact]
    public void Validate_TruncatedDer_IsRejectedAsMalformed()
    {
        byte[] der = Builder().Build();

        Assert.Equal(OcspValidationFailure.MalformedResponse, Validate(der[..(der.Length / 2)]).Failure);
    }

    [Fact]
    public void Validate_HtmlPage_IsRejectedAsMalformed()
    {
        byte[] html = "<html><body>Service unavailable</body></html>"u8.ToArray();

        Assert.Equal(OcspValidationFailure.MalformedResponse, Validate(html).Failure);
    }

    [Theory]
    [InlineData(OcspResponseStatus.MalformedRequest)]
    [InlineData(OcspResponseStatus.InternalError)]
    [InlineData(OcspResponseStatus.TryLater)]
    [InlineData(OcspResponseStatus.SigRequired)]
    [InlineData(OcspResponseStatus.Unauthorized)]
    public void Validate_UnsuccessfulStatus_IsRejectedWithThatStatus(OcspResponseStatus status)
    {
        OcspValidationResult sut = Validate(OcspResponseBuilder.BuildStatus(status));

        Assert.Equal(OcspValidationFailure.UnsuccessfulStatus, sut.Failure);
        Assert.Equal(status, sut.Response!.Status);
        Assert.Contains(status.ToString(), sut.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_NonBasicResponseType_IsRejectedAsUnsupported()
    {
        Assert.Equal(OcspValidationFailure.UnsupportedResponseType, Validate(OcspResponseBuilder.BuildNonBasic()).Failure);
    }

    [Fact]
    public void Validate_WrongSerial_IsRejectedAsCertificateIdMismatch()
    {
        OcspResponseBuilder builder = Builder();
        builder.CertificateId = OcspCertificateId.Create(_pki.LeafWithoutAia, _pki.Intermediate);

        OcspValidationResult sut = Validate(builder.Build());

        Assert.Equal(OcspValidationFailure.CertificateIdMismatch, sut.Failure);
        Assert.Contains(builder.CertificateId.SerialNumberHex, sut.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_WrongIssuerNameHash_IsRejectedAsCertificateIdMismatch()
    {
        OcspResponseBuilder builder = Builder();
        OcspCertificateId ours = builder.CertificateId;
        byte[] nameHash = ours.IssuerNameHash.ToArray();
        nameHash[0] ^= 0xFF;
        builder.CertificateId = new OcspCertificateId(ours.HashAlgorithm, nameHash, ours.IssuerKeyHash.Span, ours.SerialNumber.Span);

        OcspValidationResult sut = Validate(builder.Build());

        Assert.Equal(OcspValidationFailure.CertificateIdMismatch, sut.Failure);
        Assert.Contains("another issuer", sut.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_WrongIssuerKeyHash_IsRejectedAsCertificateIdMismatch()
    {
        OcspResponseBuilder builder = Builder();
        OcspCertificateId ours = builder.CertificateId;
        byte[] keyHash = ours.IssuerKeyHash.ToArray();
        keyHash[^1] ^= 0x01;
        builder.CertificateId = new OcspCertificateId(ours.HashAlgorithm, ours.IssuerNameHash.Span, keyHash, ours.SerialNumber.Span);

        Assert.Equal(OcspValidationFailure.CertificateIdMismatch, Validate(builder.Build()).Failure);
    }

    [Theory]
    [InlineData("SHA1WITHRSA", false)]
    [InlineData("SHA256WITHRSA", false)]
    [InlineData("SHA384WITHRSA", false)]
    [InlineData("SHA512WITHRSA", false)]
    [InlineData("SHA256WITHRSAANDMGF1", false)] // RSASSA-PSS
    [InlineData("SHA224WITHRSA", false)]        // not verified by .NET: BouncyCastle, its key object cached
    [InlineData("SHA1WITHECDSA", true)]
    [InlineData("SHA256WITHECDSA", true)]
    [InlineData("SHA384WITHECDSA", true)]
    [InlineData("SHA512WITHECDSA", true)]
    [InlineData("SHA224WITHECDSA", true)]
    public void Validate_EverySignatureAlgorithm_AcceptedWhenGood_RejectedWhenCorrupted(string algorithm, bool delegated)
    {
        OcspValidationResult Run(bool corrupt)
        {
            OcspResponseBuilder builder = Builder();
            builder.SignatureAlgorithmName = algorithm;
            builder.CorruptSignature = corrupt;
            if (delegated)
            {
                builder.Signer = _pki.DelegatedResponder; // ECDSA P-256, its certificate signed by the RSA issuer
            }

            return Validate(builder.Build());
        }

        OcspValidationResult good = Run(corrupt: false);
        OcspValidationResult bad = Run(corrupt: true);

        Assert.True(good.IsValid, good.Message);
        Assert.Equal(OcspValidationFailure.BadSignature, bad.Failure);
    }

    [Fact]
    public void Validate_CorruptedIssuerSignature_IsRejectedAsBadSignature()
    {
        OcspResponseBuilder builder = Builder();
        builder.CorruptSignature = true;

        Assert.Equal(OcspValidationFailure.BadSignature, Validate(builder.Build()).Failure);
    }

    [Fact]
    public void Validate_CorruptedDelegatedSignature_IsRejectedAsBadSignature()
    {
        OcspResponseBuilder builder = Builder();
        builder.Signer = _pki.DelegatedResponder;
        builder.CorruptSignature = true;

        Assert.Equal(OcspValidationFailure.BadSignature, Validate(builder.Build()).Failure);
    }

    [Fact]
    public void Validate_SignedByNonIssuerWithoutEmbeddedCertificate_IsRejectedAsUnauthorizedSigner()
    {
        // Claims to be the issuer (byName) but the root's key signed it.
        OcspResponseBuilder builder = Builder();
        builder.Signer = _pki.Root;
        builder.IncludeSignerCertificate = false;
        byte[] signedByRoot = builder.Build();
        OcspResponse parsed = OcspResponse.Parse(signedByRoot);
        Assert.Equal(_pki.Root.SubjectName.Name, parsed.ResponderId!.Name!.Name);

        // The root is not the issuer and its certificate is not embedded: nobody authorised signed.
        Assert.Equal(OcspValidationFailure.UnauthorizedSigner, Validate(signedByRoot).Failure);
    }

    [Fact]
    public void Validate_DelegatedResponderWithoutOcspSigningEku_IsRejectedAsUnauthorizedSigner()
    {
        OcspResponseBuilder builder = Builder();
        builder.Signer = _pki.ResponderWithoutEku;

        OcspValidationResult sut = Validate(builder.Build());

        Assert.Equal(OcspValidationFailure.UnauthorizedSigner, sut.Failure);
        Assert.Contains("id-kp-OCSPSigning", sut.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_ResponderOfAnotherCa_IsRejectedAsUnauthorizedSigner()
    {
        OcspResponseBuilder builder = Builder();
        builder.Signer = _pki.ForeignResponder;

        OcspValidationResult sut = Validate(builder.Build());

        Assert.Equal(OcspValidationFailure.UnauthorizedSigner, sut.Failure);
        Assert.Contains("not issued by", sut.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_SignerNotEmbedded_IsRejectedAsUnauthorizedSigner()
    {
        OcspResponseBuilder builder = Builder();
        builder.Signer = _pki.DelegatedResponder;
        builder.IncludeSignerCertificate = false;

        Assert.Equal(OcspValidationFailure.UnauthorizedSigner, Validate(builder.Build()).Failure);
    }

    [Fact]
    public void Validate_ResponderCertificateExpiredAtProducedAt_IsRejectedAsResponderCertificateExpired()
    {
        OcspResponseBuilder builder = Builder();
        builder.Signer = _pki.ExpiredResponder;

        OcspValidationResult sut = Validate(builder.Build());

        Assert.Equal(OcspValidationFailure.ResponderCertificateExpired, sut.Failure);
    }

    [Fact]
    public void Validate_ThisUpdateBeyondSkew_IsRejectedAsThisUpdateInFuture()
    {
        OcspResponseBuilder builder = Builder();
        builder.ThisUpdate = Now.AddMinutes(6);
        builder.NextUpdate = Now.AddDays(4);

        Assert.Equal(OcspValidationFailure.ThisUpdateInFuture, Validate(builder.Build()).Failure);
    }

    [Fact]
    public void Validate_ThisUpdateWithinSkew_IsAccepted()
    {
        OcspResponseBuilder builder = Builder();
        builder.ThisUpdate = Now.AddMinutes(4);

        Assert.True(Validate(builder.Build()).IsValid);
    }

    [Theory]
    [InlineData(4, 4 * 24 * 60, null)]
    [InlineData(6, 4 * 24 * 60, OcspValidationFailure.ThisUpdateInFuture)]
    [InlineData(-2 * 24 * 60, -1, OcspValidationFailure.Expired)]
    [InlineData(-60, 0, OcspValidationFailure.Expired)]
    public void ValidateTimes_TheTimeWindowAlone_DecidesAsValidateDoes(int thisUpdateMinutes, int nextUpdateMinutes, OcspValidationFailure? expected)
    {
        // What `ocsp-stapling status` checks when no issuer is at hand: the same rule, so both agree on every window.
        OcspResponseBuilder builder = Builder();
        builder.ThisUpdate = Now.AddMinutes(thisUpdateMinutes);
        builder.NextUpdate = Now.AddMinutes(nextUpdateMinutes);
        byte[] response = builder.Build();

        OcspValidationResult times = OcspResponseValidator.ValidateTimes(response, Now);
        OcspValidationResult full = Validate(response);

        Assert.Equal(expected, times.IsValid ? (OcspValidationFailure?)null : times.Failure);
        Assert.Equal(full.IsValid, times.IsValid);
        Assert.Equal(full.Failure, times.Failure);
    }

    [Fact]
    public void ValidateTimes_Garbage_IsMalformed_NotAThrow()
    {
        Assert.Equal(OcspValidationFailure.MalformedResponse, OcspResponseValidator.ValidateTimes(new byte[] { 0x30, 0x03, 0x0A, 0x01 }, Now).Failure);
    }

    [Fact]
    public void Validate_ConfiguredSkew_IsHonoured()
    {
        OcspResponseBuilder builder = Builder();
        builder.ThisUpdate = Now.AddMinutes(4);

        OcspValidationResult sut = Validate(builder.Build(), new OcspValidationOptions { MaxClockSkew = TimeSpan.FromMinutes(1) });

        Assert.Equal(OcspValidationFailure.ThisUpdateInFuture, sut.Failure);
    }

    [Fact]
    public void Validate_NextUpdatePassed_IsRejectedAsExpired()
    {
        OcspResponseBuilder builder = Builder();
        builder.ThisUpdate = Now.AddDays(-5);
        builder.NextUpdate = Now.AddSeconds(-1);

        Assert.Equal(OcspValidationFailure.Expired, Validate(builder.Build()).Failure);
    }

    [Fact]
    public void Validate_NextUpdateExactlyNow_IsRejectedAsExpired()
    {
        OcspResponseBuilder builder = Builder();
        builder.ThisUpdate = Now.AddDays(-4);
        builder.NextUpdate = Now;

        Assert.Equal(OcspValidationFailure.Expired, Validate(builder.Build()).Failure);
    }

    [Fact]
    public void Validate_MissingNextUpdateOlderThanLifetime_IsRejectedAsExpired()
    {
        OcspResponseBuilder builder = Builder();
        builder.ThisUpdate = Now.AddHours(-2);
        builder.NextUpdate = null;

        Assert.Equal(OcspValidationFailure.Expired, Validate(builder.Build()).Failure);
    }

    [Fact]
    public void Validate_MissingNextUpdateWithZeroLifetime_IsRejectedAsMissingNextUpdate()
    {
        OcspResponseBuilder builder = Builder();
        builder.NextUpdate = null;

        OcspValidationResult sut = Validate(builder.Build(), new OcspValidationOptions { MissingNextUpdateLifetime = TimeSpan.Zero });

        Assert.Equal(OcspValidationFailure.MissingNextUpdate, sut.Failure);
    }

    [Fact]
    public void Validate_NonceEchoed_IsAccepted()
    {
        byte[] nonce = RandomNumberGenerator.GetBytes(32);
        OcspResponseBuilder builder = Builder();
        builder.Nonce = nonce;

        Assert.True(Validate(builder.Build(), nonce: nonce).IsValid);
    }

    [Fact]
    public void Validate_NonceDiffers_IsRejectedAsNonceMismatch()
    {
        OcspResponseBuilder builder = Builder();
        builder.Nonce = RandomNumberGenerator.GetBytes(32);

        Assert.Equal(OcspValidationFailure.NonceMismatch, Validate(builder.Build(), nonce: RandomNumberGenerator.GetBytes(32)).Failure);
    }

    [Fact]
    public void Validate_NonceSentButAbsent_IsRejectedAsNonceMismatch()
    {
        Assert.Equal(OcspValidationFailure.NonceMismatch, Validate(Builder().Build(), nonce: RandomNumberGenerator.GetBytes(16)).Failure);
    }

    [Fact]
    public void Validate_IssuerThatDidNotIssueCertificate_ThrowsArgumentException()
    {
        byte[] der = Builder().Build();

        Assert.Throws<ArgumentException>(() => OcspResponseValidator.Validate(der, _pki.Leaf, _pki.Root, Now));
    }

    /// <summary>Every value of the enum, so that a new failure code is a new test case here and fails until it has a case.</summary>
    public static TheoryData<OcspValidationFailure> EveryFailureCode => new(Enum.GetValues<OcspValidationFailure>());

    [Theory]
    [MemberData(nameof(EveryFailureCode))]
    public void Validate_EveryFailureCode_IsProducedByItsCase(OcspValidationFailure failure)
    {
        Assert.True(FailureCases().TryGetValue(failure, out Func<OcspValidationResult>? produce), $"No input produces {failure}: add a case for it.");

        OcspValidationResult sut = produce();

        Assert.Equal(failure, sut.Failure);
        Assert.Equal(failure == OcspValidationFailure.None, sut.IsValid);
        Assert.False(string.IsNullOrWhiteSpace(sut.Message));
    }

    /// <summary>The smallest input that makes the validator answer each code.</summary>
    private Dictionary<OcspValidationFailure, Func<OcspValidationResult>> FailureCases() => new()
    {
        [OcspValidationFailure.None] = () => Validate(Builder().Build()),
        [OcspValidationFailure.ResponseTooLarge] = () => Validate(new byte[(64 * 1024) + 1]),
        [OcspValidationFailure.MalformedResponse] = () => Validate("<html><body>Service unavailable</body></html>"u8.ToArray()),
        [OcspValidationFailure.UnsuccessfulStatus] = () => Validate(OcspResponseBuilder.BuildStatus(OcspResponseStatus.TryLater)),
        [OcspValidationFailure.UnsupportedResponseType] = () => Validate(OcspResponseBuilder.BuildNonBasic()),
        [OcspValidationFailure.CertificateIdMismatch] = () => Validate(With(b => b.CertificateId = OcspCertificateId.Create(_pki.LeafWithoutAia, _pki.Intermediate))),
        [OcspValidationFailure.BadSignature] = () => Validate(With(b => b.CorruptSignature = true)),
        [OcspValidationFailure.UnauthorizedSigner] = () => Validate(With(b => (b.Signer, b.IncludeSignerCertificate) = (_pki.Root, false))),
        [OcspValidationFailure.ResponderCertificateExpired] = () => Validate(With(b => b.Signer = _pki.ExpiredResponder)),
        [OcspValidationFailure.ThisUpdateInFuture] = () => Validate(With(b => (b.ThisUpdate, b.NextUpdate) = (Now.AddMinutes(6), Now.AddDays(4)))),
        [OcspValidationFailure.Expired] = () => Validate(With(b => (b.ThisUpdate, b.NextUpdate) = (Now.AddDays(-5), Now.AddSeconds(-1)))),
        [OcspValidationFailure.MissingNextUpdate] = () => Validate(With(b => b.NextUpdate = null), new OcspValidationOptions { MissingNextUpdateLifetime = TimeSpan.Zero }),
        [OcspValidationFailure.NonceMismatch] = () => Validate(Builder().Build(), nonce: RandomNumberGenerator.GetBytes(16)),
    };

    private byte[] With(Action<OcspResponseBuilder> change)
    {
        OcspResponseBuilder builder = Builder();
        change(builder);
        return builder.Build();
    }
}
