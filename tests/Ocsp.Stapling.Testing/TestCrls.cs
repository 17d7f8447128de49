using System.Formats.Asn1;
using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Ocsp.Stapling.Testing;

/// <summary>
/// CRLs for tests, signed by a test CA: the usual ones through .NET's <see cref="CertificateRevocationListBuilder"/>
/// (CRL number and authority key identifier), and hand-made ones with any extensions (a delta indicator, an unknown
/// critical extension, an issuing distribution point) written with <see cref="AsnWriter"/>.
/// </summary>
public static class TestCrls
{
    /// <summary>A CRL of <paramref name="issuer"/> listing <paramref name="revoked"/> (each revoked a day before <paramref name="thisUpdate"/>).</summary>
    public static byte[] Build(X509Certificate2 issuer, BigInteger number, DateTimeOffset thisUpdate, DateTimeOffset nextUpdate, params X509Certificate2[] revoked)
    {
        var builder = new CertificateRevocationListBuilder();
        foreach (X509Certificate2 certificate in revoked)
        {
            builder.AddEntry(certificate, thisUpdate.AddDays(-1), X509RevocationReason.KeyCompromise);
        }

        return builder.Build(issuer, number, nextUpdate, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1, thisUpdate);
    }

    /// <summary>A CRL of <paramref name="count"/> random serials (and <paramref name="revoked"/>), for scale.</summary>
    public static byte[] BuildLarge(X509Certificate2 issuer, int count, DateTimeOffset thisUpdate, DateTimeOffset nextUpdate, params X509Certificate2[] revoked)
    {
        var builder = new CertificateRevocationListBuilder();
        for (int i = 0; i < count; i++)
        {
            builder.AddEntry(TestPki.NewSerial(), thisUpdate.AddDays(-1), X509RevocationReason.Superseded);
        }

        foreach (X509Certificate2 certificate in revoked)
        {
            builder.AddEntry(certificate, thisUpdate.AddDays(-1), X509RevocationReason.KeyCompromise);
        }

        return builder.Build(issuer, count, nextUpdate, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1, thisUpdate);
    }

    /// <summary>
    /// A hand-made v2 CRL of <paramref name="issuer"/> (RSA, sha256WithRSAEncryption) with the CRL extensions given
    /// (<c>(oid, critical, value DER)</c>), listing <paramref name="revoked"/>; no nextUpdate when it is <see langword="null"/>.
    /// </summary>
    public static byte[] Custom(
        X509Certificate2 issuer, DateTimeOffset thisUpdate, DateTimeOffset? nextUpdate, IEnumerable<(string Oid, bool Critical, byte[] Value)> extensions, params X509Certificate2[] revoked)
    {
        var tbs = new AsnWriter(AsnEncodingRules.DER);
        using (tbs.PushSequence())
        {
            tbs.WriteInteger(1);
            WriteAlgorithm(tbs);
            tbs.WriteEncodedValue(issuer.SubjectName.RawData);
            tbs.WriteUtcTime(thisUpdate);
            if (nextUpdate is { } next)
            {
                tbs.WriteUtcTime(next);
            }

            if (revoked.Length > 0)
            {
                using (tbs.PushSequence())
                {
                    foreach (X509Certificate2 certificate in revoked)
                    {
                        using (tbs.PushSequence())
                        {
                            tbs.WriteIntegerUnsigned(certificate.SerialNumberBytes.Span);
                            tbs.WriteUtcTime(thisUpdate.AddDays(-1));
                        }
                    }
                }
            }

            (string Oid, bool Critical, byte[] Value)[] all = [.. extensions];
            if (all.Length > 0)
            {
                using (tbs.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0)))
                using (tbs.PushSequence())
                {
                    foreach ((string oid, bool critical, byte[] value) in all)
                    {
                        using (tbs.PushSequence())
                        {
                            tbs.WriteObjectIdentifier(oid);
                            if (critical)
                            {
                                tbs.WriteBoolean(true);
                            }

                            tbs.WriteOctetString(value);
                        }
                    }
                }
            }
        }

        byte[] signed = tbs.Encode();
        using RSA key = issuer.GetRSAPrivateKey() ?? throw new InvalidOperationException("An RSA CA with its key is needed.");
        byte[] signature = key.SignData(signed, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var crl = new AsnWriter(AsnEncodingRules.DER);
        using (crl.PushSequence())
        {
            crl.WriteEncodedValue(signed);
            WriteAlgorithm(crl);
            crl.WriteBitString(signature);
        }

        return crl.Encode();
    }

    /// <summary>A CRL number extension value (RFC 5280 §5.2.3).</summary>
    public static (string Oid, bool Critical, byte[] Value) Number(BigInteger number)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        writer.WriteInteger(number);
        return ("2.5.29.20", false, writer.Encode());
    }

    /// <summary>An issuing distribution point naming <paramref name="url"/>, optionally for end entities only or CAs only.</summary>
    public static (string Oid, bool Critical, byte[] Value) IssuingDistributionPoint(Uri url, bool onlyUsers = false, bool onlyCas = false)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)))
            using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)))
            {
                writer.WriteCharacterString(UniversalTagNumber.IA5String, url.AbsoluteUri, new Asn1Tag(TagClass.ContextSpecific, 6));
            }

            if (onlyUsers)
            {
                writer.WriteBoolean(true, new Asn1Tag(TagClass.ContextSpecific, 1));
            }

            if (onlyCas)
            {
                writer.WriteBoolean(true, new Asn1Tag(TagClass.ContextSpecific, 2));
            }
        }

        return ("2.5.29.28", true, writer.Encode());
    }

    private static void WriteAlgorithm(AsnWriter writer)
    {
        using (writer.PushSequence())
        {
            writer.WriteObjectIdentifier("1.2.840.113549.1.1.11");
            writer.WriteNull();
        }
    }
}
