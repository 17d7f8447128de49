using Ocsp.Stapling.Internal;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Ocsp;
using Org.BouncyCastle.Asn1.X509;

namespace Ocsp.Stapling.Internal;

internal static class CertIds
{
    public static CertID ToAsn1(OcspCertificateId id) => new(
        // RFC 5019 §2.1.1 and OpenSSL: the hash AlgorithmIdentifier carries explicit NULL parameters.
        new AlgorithmIdentifier(new DerObjectIdentifier(HashAlgorithms.GetOid(id.HashAlgorithm)), DerNull.Instance),
        new DerOctetString(id.IssuerNameHash.ToArray()),
        new DerOctetString(id.IssuerKeyHash.ToArray()),
        new DerInteger(id.SerialNumber.ToArray()));

    /// <summary>Converts a decoded CertID; <see langword="null"/> when its hash algorithm is not one we know.</summary>
    public static OcspCertificateId? FromAsn1(CertID id)
    {
        if (!HashAlgorithms.TryFromOid(id.HashAlgorithm.Algorithm.Id, out OcspHashAlgorithm algorithm))
        {
            return null;
        }

        try
        {
            return new OcspCertificateId(
                algorithm, id.IssuerNameHash.GetOctets(), id.IssuerKeyHash.GetOctets(), id.SerialNumber.Value.ToByteArray());
        }
        catch (ArgumentException ex)
        {
            throw new OcspFormatException($"A CertID is malformed: {ex.Message}", ex);
        }
    }
}
