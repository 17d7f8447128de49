using System.Security.Cryptography.X509Certificates;
using Org.BouncyCastle.Asn1.Ocsp;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Ocsp;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.X509;

namespace Ocsp.Stapling.Protocol;

internal static class OcspSignatures
{
    /// <summary>True when the basic response's signature verifies with <paramref name="signer"/>'s public key.</summary>
    public static bool VerifyResponse(BasicOcspResponse basic, X509Certificate2 signer)
    {
        try
        {
            return new BasicOcspResp(basic).Verify(PublicKey(signer));
        }
#pragma warning disable CA1031 // An unusable key or algorithm is a failed verification, whatever BouncyCastle throws.
        catch (Exception ex) when (ex is not OutOfMemoryException)
#pragma warning restore CA1031
        {
            return false;
        }
    }

    /// <summary>True when <paramref name="certificate"/>'s signature verifies with <paramref name="issuer"/>'s public key.</summary>
    public static bool IsCertificateSignedBy(X509Certificate2 certificate, X509Certificate2 issuer)
    {
        try
        {
            Org.BouncyCastle.X509.X509Certificate parsed = new X509CertificateParser().ReadCertificate(certificate.RawData);
            parsed.Verify(PublicKey(issuer));
            return true;
        }
#pragma warning disable CA1031 // Any failure to verify means "not signed by".
        catch (Exception ex) when (ex is not OutOfMemoryException)
#pragma warning restore CA1031
        {
            return false;
        }
    }

    private static AsymmetricKeyParameter PublicKey(X509Certificate2 certificate) =>
        PublicKeyFactory.CreateKey(certificate.PublicKey.ExportSubjectPublicKeyInfo());
}
