using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tests.Interop;

/// <summary>Fixture: a PKI valid in real time and its files in a temp directory, as OpenSSL's responder wants them.</summary>
public sealed class OpenSslPkiFixture : IDisposable
{
    public OpenSslPkiFixture()
    {
        Pki = TestPki.Create(new Uri("http://ocsp.test.invalid/"), TimeProvider.System.GetUtcNow());
        Directory = System.IO.Directory.CreateTempSubdirectory("ocsp-openssl-").FullName;
        RevokedLeaf = Pki.IssueLeaf("revoked.test", Pki.OcspUrl);
        UnknownLeaf = Pki.IssueLeaf("unknown.test", Pki.OcspUrl);
        RevokedAt = new DateTimeOffset(2026, 3, 4, 5, 6, 7, TimeSpan.Zero);
        Write("ca.pem", TestPki.ToPem(Pki.Intermediate));
        Write("ca.key", TestPki.PrivateKeyPem(Pki.Intermediate));
        Write("leaf.pem", TestPki.ToPem(Pki.Leaf));
        Write("responder.pem", TestPki.ToPem(Pki.DelegatedResponder));
        Write("responder.key", TestPki.PrivateKeyPem(Pki.DelegatedResponder));
        Write("chain.pem", TestPki.ToPem(Pki.Root) + TestPki.ToPem(Pki.Intermediate));
        Write("index.txt", IndexLine('V', Pki.Leaf, null) + IndexLine('R', RevokedLeaf, RevokedAt));
    }

    public TestPki Pki { get; }

    public string Directory { get; }

    public X509Certificate2 RevokedLeaf { get; }

    /// <summary>Issued by the CA but absent from index.txt.</summary>
    public X509Certificate2 UnknownLeaf { get; }

    public DateTimeOffset RevokedAt { get; }

    public string PathOf(string name) => Path.Combine(Directory, name);

    public void Write(string name, string text) => File.WriteAllText(PathOf(name), text);

    public void Dispose()
    {
        Pki.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }

    private static string IndexLine(char status, X509Certificate2 certificate, DateTimeOffset? revokedAt)
    {
        // index.txt: status, expiry (UTCTime), revocation "time,reason", serial (hex), file name, subject.
        static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyMMddHHmmss'Z'", CultureInfo.InvariantCulture);
        string revocation = revokedAt is { } at ? Time(at) + ",keyCompromise" : string.Empty;
        return $"{status}\t{Time(certificate.NotAfter.ToUniversalTime())}\t{revocation}\t{TestPki.OpenSslSerial(certificate)}\tunknown\t/{certificate.Subject}\n";
    }
}

public sealed class OpenSslInteropTests(OpenSslPkiFixture fixture) : IClassFixture<OpenSslPkiFixture>
{
    private readonly TestPki _pki = fixture.Pki;

    private static bool Available => ExternalProgram.Find("openssl") is not null;

    [SkippableTheory]
    [InlineData(OcspHashAlgorithm.Sha1)]
    [InlineData(OcspHashAlgorithm.Sha256)]
    public async Task OurRequest_AnsweredByOpenSslIssuerSigned_ValidatesAsGood(OcspHashAlgorithm algorithm)
    {
        OcspValidationResult sut = await RespondAsync(_pki.Leaf, new OcspRequestOptions { HashAlgorithm = algorithm }, "-rsigner", "ca.pem", "-rkey", "ca.key", "-ndays", "1");

        Assert.True(sut.IsValid, sut.Message);
        Assert.Equal(OcspCertificateStatus.Good, sut.Staple.Status);
        Assert.Equal(algorithm, sut.Staple.CertificateId.HashAlgorithm);
        Assert.InRange(sut.Staple.NextUpdate - sut.Staple.ThisUpdate, TimeSpan.FromHours(23.9), TimeSpan.FromHours(24.1));
    }

    [SkippableFact]
    public async Task OurRequestWithNonce_AnsweredByOpenSsl_EchoesNonceAndValidates()
    {
        OcspValidationResult sut = await RespondAsync(
            _pki.Leaf, new OcspRequestOptions { IncludeNonce = true }, "-rsigner", "ca.pem", "-rkey", "ca.key", "-nmin", "30");

        Assert.True(sut.IsValid, sut.Message);
        Assert.True(sut.Response.HasNonce);
        Assert.InRange(sut.Staple.NextUpdate - sut.Staple.ThisUpdate, TimeSpan.FromMinutes(29.9), TimeSpan.FromMinutes(30.1));
    }

    [SkippableFact]
    public async Task OurRequest_AnsweredWithResponderKeyId_Validates()
    {
        OcspValidationResult sut = await RespondAsync(_pki.Leaf, null, "-rsigner", "ca.pem", "-rkey", "ca.key", "-resp_key_id", "-ndays", "1");

        Assert.True(sut.IsValid, sut.Message);
        Assert.True(sut.Response.ResponderId!.IsByKey);
    }

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task OurRequest_AnsweredByDelegatedSigner_Validates(bool byKey)
    {
        string[] arguments = ["-rsigner", "responder.pem", "-rkey", "responder.key", "-ndays", "2", .. byKey ? ["-resp_key_id"] : Array.Empty<string>()];

        OcspValidationResult sut = await RespondAsync(_pki.Leaf, null, arguments);

        Assert.True(sut.IsValid, sut.Message);
        Assert.Equal(_pki.DelegatedResponder.RawData, Assert.Single(sut.Response.Certificates).RawData);
    }

    [SkippableFact]
    public async Task RevokedIndexEntry_ComesBackRevokedWithTimeAndReason()
    {
        OcspValidationResult sut = await RespondAsync(fixture.RevokedLeaf, null, "-rsigner", "ca.pem", "-rkey", "ca.key", "-ndays", "1");

        Assert.True(sut.IsValid, sut.Message);
        Assert.Equal(OcspCertificateStatus.Revoked, sut.Staple.Status);
        Assert.Equal(fixture.RevokedAt, sut.Staple.RevocationTime);
        Assert.Equal(OcspRevocationReason.KeyCompromise, sut.Staple.RevocationReason);
    }

    [SkippableFact]
    public async Task SerialMissingFromIndex_ComesBackUnknown()
    {
        OcspValidationResult sut = await RespondAsync(fixture.UnknownLeaf, null, "-rsigner", "ca.pem", "-rkey", "ca.key", "-ndays", "1");

        Assert.True(sut.IsValid, sut.Message);
        Assert.Equal(OcspCertificateStatus.Unknown, sut.Staple.Status);
    }

    [SkippableFact]
    public async Task OpenSslResponse_ValidatedForAnotherCertificate_IsCertificateIdMismatch()
    {
        byte[] response = await RespondRawAsync(_pki.Leaf, null, "-rsigner", "ca.pem", "-rkey", "ca.key", "-ndays", "1");

        OcspValidationResult sut = OcspResponseValidator.Validate(response, fixture.RevokedLeaf, _pki.Intermediate, TimeProvider.System.GetUtcNow());

        Assert.Equal(OcspValidationFailure.CertificateIdMismatch, sut.Failure);
    }

    [SkippableTheory]
    [InlineData(false, OcspHashAlgorithm.Sha1)]
    [InlineData(true, OcspHashAlgorithm.Sha1)]
    [InlineData(false, OcspHashAlgorithm.Sha256)]
    public async Task OpenSslRequest_DecodesToOurCertId(bool withNonce, OcspHashAlgorithm algorithm)
    {
        Requires.Programs("openssl");
        string output = fixture.PathOf($"openssl-req-{withNonce}-{algorithm}.der");
        string[] digest = algorithm == OcspHashAlgorithm.Sha256 ? ["-sha256"] : [];
        ProgramResult run = await ExternalProgram.RunAsync(
            "openssl", ["ocsp", "-issuer", "ca.pem", .. digest, "-cert", "leaf.pem", withNonce ? "-nonce" : "-no_nonce", "-reqout", output], fixture.Directory);
        Assert.True(run.ExitCode == 0, run.ToString());

        OcspRequest sut = OcspRequest.Decode(await File.ReadAllBytesAsync(output));

        Assert.Equal(OcspCertificateId.Create(_pki.Leaf, _pki.Intermediate, algorithm), Assert.Single(sut.CertificateIds));
        Assert.Equal(withNonce, sut.HasNonce);
    }

    [SkippableFact]
    public async Task OurGetEncoding_OfOpenSslRequest_RoundTrips()
    {
        Requires.Programs("openssl");
        string output = fixture.PathOf("openssl-req-get.der");
        ProgramResult run = await ExternalProgram.RunAsync("openssl", ["ocsp", "-issuer", "ca.pem", "-cert", "leaf.pem", "-reqout", output], fixture.Directory);
        Assert.True(run.ExitCode == 0, run.ToString());
        byte[] der = await File.ReadAllBytesAsync(output);

        Uri sut = OcspHttpEncoding.GetRequestUri(new Uri("http://ocsp.test/ocsp"), der);

        Assert.Equal(der, OcspHttpEncoding.DecodeGetRequest(sut.AbsolutePath["/ocsp".Length..]));
    }

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TestResponseBuilderOutput_VerifiedByOpenSsl(bool delegated)
    {
        Requires.Programs("openssl");
        OcspResponseBuilder builder = OcspResponseBuilder.For(_pki.Leaf, _pki.Intermediate, TimeProvider.System.GetUtcNow());
        if (delegated)
        {
            builder.Signer = _pki.DelegatedResponder;
        }

        string path = fixture.PathOf($"built-{delegated}.der");
        await File.WriteAllBytesAsync(path, builder.Build());

        ProgramResult sut = await ExternalProgram.RunAsync(
            "openssl", ["ocsp", "-respin", path, "-issuer", "ca.pem", "-cert", "leaf.pem", "-CAfile", "chain.pem", "-no_nonce"], fixture.Directory);

        Assert.True(sut.ExitCode == 0, sut.ToString());
        Assert.Contains("Response verify OK", sut.StandardError + sut.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("leaf.pem: good", sut.StandardOutput, StringComparison.Ordinal);
    }

    private async Task<OcspValidationResult> RespondAsync(X509Certificate2 certificate, OcspRequestOptions? options, params string[] responderArguments)
    {
        OcspRequest request = OcspRequest.Create(certificate, _pki.Intermediate, options);
        byte[] response = await RespondRawAsync(request, responderArguments);
        return OcspResponseValidator.Validate(response, certificate, _pki.Intermediate, TimeProvider.System.GetUtcNow(), requestNonce: request.Nonce);
    }

    private Task<byte[]> RespondRawAsync(X509Certificate2 certificate, OcspRequestOptions? options, params string[] responderArguments) =>
        RespondRawAsync(OcspRequest.Create(certificate, _pki.Intermediate, options), responderArguments);

    private async Task<byte[]> RespondRawAsync(OcspRequest request, string[] responderArguments)
    {
        Requires.Programs("openssl");
        string name = Guid.NewGuid().ToString("N");
        string requestPath = fixture.PathOf(name + ".req");
        string responsePath = fixture.PathOf(name + ".resp");
        await File.WriteAllBytesAsync(requestPath, request.Encoded.ToArray());

        // Offline mode: OpenSSL 3.0's -port would listen on every interface.
        ProgramResult run = await ExternalProgram.RunAsync(
            "openssl",
            ["ocsp", "-index", "index.txt", "-CA", "ca.pem", .. responderArguments, "-reqin", requestPath, "-respout", responsePath],
            fixture.Directory);
        Assert.True(run.ExitCode == 0, run.ToString());
        return await File.ReadAllBytesAsync(responsePath);
    }
}
