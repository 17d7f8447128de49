using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Nist;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.Ocsp;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Security;
using BcOcspResponse = Org.BouncyCastle.Asn1.Ocsp.OcspResponse;
using X509Extension = Org.BouncyCastle.Asn1.X509.X509Extension;
using BcOcspResponseStatus = Org.BouncyCastle.Asn1.Ocsp.OcspResponseStatus;

namespace Ocsp.Stapling.Testing;

/// <summary>
/// Builds OCSP responses, good and bad, with BouncyCastle's ASN.1 types so that every field can be set or broken.
/// Defaults: status good, thisUpdate = producedAt = now, nextUpdate = now + 4 days, signed by the issuer, ResponderID byName.
/// </summary>
public sealed class OcspResponseBuilder
{
    public OcspResponseBuilder(OcspCertificateId certificateId, X509Certificate2 signer, DateTimeOffset now)
    {
        CertificateId = certificateId;
        Signer = signer;
        DateTimeOffset whole = TruncateToSeconds(now);
        ThisUpdate = whole;
        ProducedAt = whole;
        NextUpdate = whole.AddDays(4);
    }

    /// <summary>The CertID answered for (echoed from a request, or computed from certificate and issuer).</summary>
    public OcspCertificateId CertificateId { get; set; }

    /// <summary>The signing certificate; needs its private key.</summary>
    public X509Certificate2 Signer { get; set; }

    /// <summary>Whether the signer's certificate is embedded (needed for delegated responders). Default: when the signer is not the CA named by <see cref="IssuerForSignerCheck"/>.</summary>
    public bool? IncludeSignerCertificate { get; set; }

    /// <summary>When set, the signer is embedded unless it is this certificate.</summary>
    public X509Certificate2? IssuerForSignerCheck { get; set; }

    public OcspCertificateStatus Status { get; set; } = OcspCertificateStatus.Good;

    public DateTimeOffset? RevocationTime { get; set; }

    public OcspRevocationReason? RevocationReason { get; set; }

    public DateTimeOffset ThisUpdate { get; set; }

    public DateTimeOffset? NextUpdate { get; set; }

    public DateTimeOffset ProducedAt { get; set; }

    public bool ResponderIdByKey { get; set; }

    public byte[]? Nonce { get; set; }

    /// <summary>Flip one bit of the signature after signing.</summary>
    public bool CorruptSignature { get; set; }

    /// <summary>
    /// The signature algorithm by its BouncyCastle name (<c>SHA1WITHRSA</c>, <c>SHA256WITHRSAANDMGF1</c> for RSASSA-PSS,
    /// <c>SHA224WITHRSA</c>, <c>SHA384WITHECDSA</c>, …); default SHA-256 with the signer's key type.
    /// </summary>
    public string? SignatureAlgorithmName { get; set; }

    /// <summary>Extra single responses placed before ours (for multi-response cases).</summary>
    public List<OcspCertificateId> ExtraResponses { get; } = [];

    /// <summary>Certificates to embed besides (or instead of) the signer.</summary>
    public List<X509Certificate2> ExtraCertificates { get; } = [];

    /// <summary>A builder for <paramref name="certificate"/> issued by <paramref name="issuer"/>, signed by the issuer.</summary>
    public static OcspResponseBuilder For(X509Certificate2 certificate, X509Certificate2 issuer, DateTimeOffset now, OcspHashAlgorithm hash = OcspHashAlgorithm.Sha1) =>
        new(OcspCertificateId.Create(certificate, issuer, hash), issuer, now) { IssuerForSignerCheck = issuer };

    /// <summary>An unsuccessful response (no body) with the given status.</summary>
    public static byte[] BuildStatus(OcspResponseStatus status) =>
        new BcOcspResponse(new BcOcspResponseStatus((int)status), null).GetDerEncoded();

    /// <summary>A successful response whose body is not of the basic type.</summary>
    public static byte[] BuildNonBasic() =>
        new BcOcspResponse(
            new BcOcspResponseStatus(0),
            new ResponseBytes(new DerObjectIdentifier("1.3.6.1.5.5.7.48.1.99"), new DerOctetString(new byte[] { 0x05, 0x00 }))).GetDerEncoded();

    public static DateTimeOffset TruncateToSeconds(DateTimeOffset value) =>
        new(value.UtcTicks - (value.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);

    public byte[] Build()
    {
        var singles = new List<Asn1Encodable>();
        foreach (OcspCertificateId extra in ExtraResponses)
        {
            singles.Add(Single(extra));
        }

        singles.Add(Single(CertificateId));

        X509Extensions? extensions = null;
        if (Nonce is not null)
        {
            var nonce = new X509Extension(false, new DerOctetString(new DerOctetString(Nonce).GetDerEncoded()));
            extensions = new X509Extensions(new Dictionary<DerObjectIdentifier, X509Extension> { [OcspObjectIdentifiers.PkixOcspNonce] = nonce });
        }

        var data = new ResponseData(ResponderId(), Time(ProducedAt), new DerSequence(singles.ToArray()), extensions);
        byte[] tbs = data.GetDerEncoded();

        (string algorithm, AlgorithmIdentifier identifier) = SignatureAlgorithmName is { } name ? (name, Identifier(name)) : SignatureAlgorithm(Signer);
        ISigner signer = SignerUtilities.GetSigner(algorithm);
        signer.Init(true, PrivateKey(Signer));
        signer.BlockUpdate(tbs, 0, tbs.Length);
        byte[] signature = signer.GenerateSignature();
        if (CorruptSignature)
        {
            signature[signature.Length / 2] ^= 0x10;
        }

        var certificates = new List<Asn1Encodable>();
        bool includeSigner = IncludeSignerCertificate ?? (IssuerForSignerCheck is null || !Signer.RawData.AsSpan().SequenceEqual(IssuerForSignerCheck.RawData));
        if (includeSigner)
        {
            certificates.Add(X509CertificateStructure.GetInstance(Asn1Object.FromByteArray(Signer.RawData)));
        }

        foreach (X509Certificate2 extra in ExtraCertificates)
        {
            certificates.Add(X509CertificateStructure.GetInstance(Asn1Object.FromByteArray(extra.RawData)));
        }

        var basic = new BasicOcspResponse(data, identifier, new DerBitString(signature), certificates.Count == 0 ? null : new DerSequence(certificates.ToArray()));
        return new BcOcspResponse(
            new BcOcspResponseStatus(0),
            new ResponseBytes(OcspObjectIdentifiers.PkixOcspBasic, new DerOctetString(basic.GetDerEncoded()))).GetDerEncoded();
    }

    private SingleResponse Single(OcspCertificateId id)
    {
        CertStatus status = Status switch
        {
            OcspCertificateStatus.Good => new CertStatus(),
            OcspCertificateStatus.Revoked => new CertStatus(new RevokedInfo(
                Time(RevocationTime ?? ThisUpdate.AddDays(-1)),
                RevocationReason is { } reason ? new CrlReason((int)reason) : null)),
            _ => new CertStatus(2, DerNull.Instance),
        };

        var certId = new CertID(
            new AlgorithmIdentifier(new DerObjectIdentifier(Ocsp.Stapling.Internal.HashAlgorithms.GetOid(id.HashAlgorithm)), DerNull.Instance),
            new DerOctetString(id.IssuerNameHash.ToArray()),
            new DerOctetString(id.IssuerKeyHash.ToArray()),
            new DerInteger(id.SerialNumber.ToArray()));
        return new SingleResponse(certId, status, Time(ThisUpdate), NextUpdate is { } next ? Time(next) : null, null);
    }

    private ResponderID ResponderId()
    {
        if (ResponderIdByKey)
        {
#pragma warning disable CA5350 // RFC 6960 §4.2.1: byKey is the SHA-1 of the key.
            return new ResponderID(new DerOctetString(SHA1.HashData(Signer.PublicKey.EncodedKeyValue.RawData)));
#pragma warning restore CA5350
        }

        return new ResponderID(X509Name.GetInstance(Asn1Object.FromByteArray(Signer.SubjectName.RawData)));
    }

    private static DerGeneralizedTime Time(DateTimeOffset value) =>
        new(value.UtcDateTime.ToString("yyyyMMddHHmmss'Z'", CultureInfo.InvariantCulture));

    private static (string Name, AlgorithmIdentifier Identifier) SignatureAlgorithm(X509Certificate2 signer) =>
        signer.GetKeyAlgorithm() == "1.2.840.113549.1.1.1"
            ? ("SHA256WITHRSA", new AlgorithmIdentifier(new DerObjectIdentifier("1.2.840.113549.1.1.11"), DerNull.Instance))
            : ("SHA256WITHECDSA", new AlgorithmIdentifier(new DerObjectIdentifier("1.2.840.10045.4.3.2")));

    private static AlgorithmIdentifier Identifier(string name) => name switch
    {
        "SHA256WITHRSAANDMGF1" => new AlgorithmIdentifier(
            PkcsObjectIdentifiers.IdRsassaPss,
            new RsassaPssParameters(
                new AlgorithmIdentifier(NistObjectIdentifiers.IdSha256, DerNull.Instance),
                new AlgorithmIdentifier(PkcsObjectIdentifiers.IdMgf1, new AlgorithmIdentifier(NistObjectIdentifiers.IdSha256, DerNull.Instance)),
                DerInteger.ValueOf(32),
                DerInteger.ValueOf(1))),
        "SHA1WITHRSA" or "SHA224WITHRSA" or "SHA256WITHRSA" or "SHA384WITHRSA" or "SHA512WITHRSA" =>
            new AlgorithmIdentifier(new DerObjectIdentifier(name switch
            {
                "SHA1WITHRSA" => "1.2.840.113549.1.1.5",
                "SHA224WITHRSA" => "1.2.840.113549.1.1.14",
                "SHA256WITHRSA" => "1.2.840.113549.1.1.11",
                "SHA384WITHRSA" => "1.2.840.113549.1.1.12",
                _ => "1.2.840.113549.1.1.13",
            }), DerNull.Instance),
        _ => new AlgorithmIdentifier(new DerObjectIdentifier(name switch
        {
            "SHA1WITHECDSA" => "1.2.840.10045.4.1",
            "SHA224WITHECDSA" => "1.2.840.10045.4.3.1",
            "SHA256WITHECDSA" => "1.2.840.10045.4.3.2",
            "SHA384WITHECDSA" => "1.2.840.10045.4.3.3",
            "SHA512WITHECDSA" => "1.2.840.10045.4.3.4",
            _ => throw new ArgumentException($"Unknown signature algorithm {name}.", nameof(name)),
        })),
    };

    internal static AsymmetricKeyParameter PrivateKey(X509Certificate2 certificate)
    {
        AsymmetricAlgorithm key = (AsymmetricAlgorithm?)certificate.GetRSAPrivateKey() ?? certificate.GetECDsaPrivateKey()
            ?? throw new InvalidOperationException($"The signer '{certificate.Subject}' has no private key.");
        using (key)
        {
            return PrivateKeyFactory.CreateKey(key.ExportPkcs8PrivateKey());
        }
    }
}
