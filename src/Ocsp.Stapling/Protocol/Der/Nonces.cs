using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Ocsp;
using Org.BouncyCastle.Asn1.X509;

namespace Ocsp.Stapling.Internal;

internal static class Nonces
{
    public static X509Extensions CreateExtensions(byte[] nonce)
    {
        // RFC 9654 §2.1: extnValue is the DER encoding of Nonce ::= OCTET STRING.
        var extension = new X509Extension(false, new DerOctetString(new DerOctetString(nonce).GetDerEncoded()));
        return new X509Extensions(new Dictionary<DerObjectIdentifier, X509Extension> { [OcspObjectIdentifiers.PkixOcspNonce] = extension });
    }

    public static byte[]? Read(X509Extensions? extensions)
    {
        X509Extension? extension = extensions?.GetExtension(OcspObjectIdentifiers.PkixOcspNonce);
        if (extension is null)
        {
            return null;
        }

        byte[] value = extension.Value.GetOctets();

        // Responders predating RFC 8954 put the raw nonce in extnValue; accept both forms.
        if (value.Length >= 2 && value[0] == 0x04)
        {
            try
            {
                if (Asn1Object.FromByteArray(value) is Asn1OctetString inner)
                {
                    return inner.GetOctets();
                }
            }
            catch (IOException)
            {
                // Not an OCTET STRING after all: the raw form.
            }
        }

        return value;
    }
}
