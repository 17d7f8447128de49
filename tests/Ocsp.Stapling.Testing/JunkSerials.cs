using System.Security.Cryptography;

namespace Ocsp.Stapling.Testing;

/// <summary>What a flooder sends: CertIDs of a known CA with random serials it never issued.</summary>
public static class JunkSerials
{
    /// <summary>A CertID of the issuer (and hash algorithm) of <paramref name="real"/>, with a random positive 16-byte serial.</summary>
    public static OcspCertificateId CertificateIdLike(OcspCertificateId real)
    {
        byte[] serial = RandomNumberGenerator.GetBytes(16);
        serial[0] = (byte)((serial[0] & 0x7F) | 0x01); // positive, no leading zero byte
        return new OcspCertificateId(real.HashAlgorithm, real.IssuerNameHash.Span, real.IssuerKeyHash.Span, serial);
    }

    /// <summary>A DER request (no nonce) for <see cref="CertificateIdLike"/>.</summary>
    public static byte[] RequestLike(OcspCertificateId real) => OcspRequest.Create(CertificateIdLike(real), []).Encoded.ToArray();
}
