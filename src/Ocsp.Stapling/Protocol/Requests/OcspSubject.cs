using System.Security.Cryptography.X509Certificates;

namespace Ocsp.Stapling.Internal;

/// <summary>
/// What an OCSP exchange is about: a serial number of one issuer. Made from a leaf certificate and its issuer, or from
/// a CertID and the CA it names (a caching proxy has no leaf). Gives the CertID in any hash algorithm, so an answer is
/// matched in whatever algorithm the responder chose.
/// </summary>
internal sealed class OcspSubject
{
    private readonly byte[] _issuerName;
    private readonly byte[] _serialNumber;
    private OcspCertificateId? _sha256;

    private OcspSubject(X509Certificate2 issuer, byte[] issuerName, OcspCertificateId sha1)
    {
        Issuer = issuer;
        _issuerName = issuerName;
        _serialNumber = sha1.SerialNumber.ToArray();
        Sha1 = sha1;
    }

    public X509Certificate2 Issuer { get; }

    /// <summary>Gets the SHA-1 CertID (RFC 5019), the one the shared store is keyed by.</summary>
    public OcspCertificateId Sha1 { get; }

    public string SerialNumberHex => Sha1.SerialNumberHex;

    /// <summary>The subject of <paramref name="certificate"/>; the name hash is over its issuer field.</summary>
    /// <exception cref="ArgumentException"><paramref name="issuer"/> did not issue <paramref name="certificate"/>.</exception>
    public static OcspSubject Of(X509Certificate2 certificate, X509Certificate2 issuer)
    {
        CertificateNames.EnsureIssuedBy(certificate, issuer, nameof(issuer));
        return new OcspSubject(issuer, certificate.IssuerName.RawData, OcspCertificateId.Create(certificate, issuer));
    }

    /// <summary>The subject a CertID names; the name hash is over the issuer's subject name.</summary>
    /// <exception cref="ArgumentException"><paramref name="certificateId"/> does not name <paramref name="issuer"/>.</exception>
    public static OcspSubject Of(OcspCertificateId certificateId, X509Certificate2 issuer) =>
        new(issuer, issuer.SubjectName.RawData, certificateId.WithHashAlgorithm(issuer, OcspHashAlgorithm.Sha1));

    /// <summary>The CertID in <paramref name="algorithm"/>.</summary>
    public OcspCertificateId Id(OcspHashAlgorithm algorithm) => algorithm switch
    {
        OcspHashAlgorithm.Sha1 => Sha1,
        OcspHashAlgorithm.Sha256 => _sha256 ??= Compute(algorithm),
        _ => Compute(algorithm),
    };

    private OcspCertificateId Compute(OcspHashAlgorithm algorithm) => new(
        algorithm,
        HashAlgorithms.Hash(algorithm, _issuerName),
        HashAlgorithms.Hash(algorithm, Issuer.PublicKey.EncodedKeyValue.RawData),
        _serialNumber);
}
