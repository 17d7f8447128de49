using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Ocsp;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Ocsp;
using Org.BouncyCastle.Security;

namespace Ocsp.Stapling.Internal;

/// <summary>
/// Signature checks of responses and of delegated responder certificates. RSA (PKCS#1 v1.5 and PSS) and ECDSA with
/// SHA-1/256/384/512, which is what OCSP responders sign with, are verified by System.Security.Cryptography with the key
/// taken from the signer's certificate: no key validation cost per response (BouncyCastle 2.x runs a primality test on
/// every RSA modulus it imports, 24 ms for RSA-2048). Anything else goes to BouncyCastle, with its key objects cached
/// per key, so that cost is paid once per key. BouncyCastle's process-wide <c>AllowUnsafeModulus</c> is never touched.
/// </summary>
internal static class OcspSignatures
{
    private static readonly BoundedCache<AsymmetricKeyParameter> FallbackKeys = new(256);
    private static readonly BoundedCache<KeyPool> SystemKeys = new(256);
    private static readonly ConditionalWeakTable<X509Certificate2, KeyPool> SystemKeysByInstance = [];

    /// <summary>True when the basic response's signature verifies with <paramref name="signer"/>'s public key.</summary>
    public static bool VerifyResponse(BasicOcspResponse basic, X509Certificate2 signer) =>
        Verify(basic.TbsResponseData, basic.SignatureAlgorithm, basic.Signature, signer, key => new BasicOcspResp(basic).Verify(key));

    /// <summary>True when <paramref name="certificate"/>'s signature verifies with <paramref name="issuer"/>'s public key.</summary>
    public static bool IsCertificateSignedBy(X509Certificate2 certificate, X509Certificate2 issuer)
    {
        X509CertificateStructure parsed;
        try
        {
            parsed = X509CertificateStructure.GetInstance(Asn1Object.FromByteArray(certificate.RawData));
        }
#pragma warning disable CA1031 // A certificate BouncyCastle cannot read is not "signed by" anybody.
        catch (Exception ex) when (ex is not OutOfMemoryException)
#pragma warning restore CA1031
        {
            return false;
        }

        return Verify(parsed.TbsCertificate, parsed.SignatureAlgorithm, parsed.Signature, issuer, key =>
        {
            new Org.BouncyCastle.X509.X509Certificate(parsed).Verify(key);
            return true;
        });
    }

    /// <summary>
    /// True when a CRL's signature verifies with <paramref name="issuer"/>'s public key (the signed bytes as received, not
    /// re-encoded: a CRL of 100,000 entries is hashed once, in place).
    /// </summary>
    /// <param name="encoded">The whole CRL (for BouncyCastle, with algorithms .NET does not verify).</param>
    /// <param name="signed">Its <c>tbsCertList</c> as encoded.</param>
    /// <param name="algorithm">The signature algorithm's OID.</param>
    /// <param name="algorithmParameters">Its parameters as encoded (empty when absent).</param>
    /// <param name="signature">The signature value.</param>
    /// <param name="issuer">The CA whose key should have signed it.</param>
    public static bool VerifyCrl(
        byte[] encoded, ReadOnlyMemory<byte> signed, string algorithm, ReadOnlyMemory<byte> algorithmParameters, byte[] signature, X509Certificate2 issuer)
    {
        try
        {
            Asn1Encodable? parameters = algorithmParameters.IsEmpty ? null : Asn1Object.FromByteArray(algorithmParameters.ToArray());
            return VerifyData(signed, algorithm, parameters, signature, issuer, key =>
            {
                new Org.BouncyCastle.X509.X509Crl(CertificateList.GetInstance(Asn1Object.FromByteArray(encoded))).Verify(key);
                return true;
            });
        }
#pragma warning disable CA1031 // Parameters BouncyCastle cannot read: not verified.
        catch (Exception ex) when (ex is not OutOfMemoryException)
#pragma warning restore CA1031
        {
            return false;
        }
    }

    private static bool Verify(Asn1Encodable signed, AlgorithmIdentifier algorithm, DerBitString signature, X509Certificate2 signer, Func<AsymmetricKeyParameter, bool> fallback)
    {
        try
        {
            return signature.PadBits == 0
                && VerifyData(signed.GetDerEncoded(), algorithm.Algorithm.Id, algorithm.Parameters, signature.GetOctets(), signer, fallback);
        }
#pragma warning disable CA1031 // An unusable key or algorithm is a failed verification, whatever the library throws.
        catch (Exception ex) when (ex is not OutOfMemoryException)
#pragma warning restore CA1031
        {
            return false;
        }
    }

    private static bool VerifyData(
        ReadOnlyMemory<byte> data, string oid, Asn1Encodable? parameters, byte[] bytes, X509Certificate2 signer, Func<AsymmetricKeyParameter, bool> fallback)
    {
        try
        {
            if (RsaPkcs1Hash(oid) is { } rsaHash)
            {
                return SystemKey(signer).Verify(key => key is RSA rsa && rsa.VerifyData(data.Span, bytes, rsaHash, RSASignaturePadding.Pkcs1));
            }

            if (oid == PkcsObjectIdentifiers.IdRsassaPss.Id && PssHash(parameters) is { } pssHash)
            {
                return SystemKey(signer).Verify(key => key is RSA rsa && rsa.VerifyData(data.Span, bytes, pssHash, RSASignaturePadding.Pss));
            }

            if (EcdsaHash(oid) is { } ecdsaHash)
            {
                return SystemKey(signer).Verify(key => key is ECDsa ecdsa && ecdsa.VerifyData(data.Span, bytes, ecdsaHash, DSASignatureFormat.Rfc3279DerSequence));
            }

            return fallback(FallbackKey(signer));
        }
#pragma warning disable CA1031 // An unusable key or algorithm is a failed verification, whatever the library throws.
        catch (Exception ex) when (ex is not OutOfMemoryException)
#pragma warning restore CA1031
        {
            return false;
        }
    }

    private static HashAlgorithmName? RsaPkcs1Hash(string oid) => oid switch
    {
        "1.2.840.113549.1.1.5" => HashAlgorithmName.SHA1,
        "1.2.840.113549.1.1.11" => HashAlgorithmName.SHA256,
        "1.2.840.113549.1.1.12" => HashAlgorithmName.SHA384,
        "1.2.840.113549.1.1.13" => HashAlgorithmName.SHA512,
        _ => null,
    };

    private static HashAlgorithmName? EcdsaHash(string oid) => oid switch
    {
        "1.2.840.10045.4.1" => HashAlgorithmName.SHA1,
        "1.2.840.10045.4.3.2" => HashAlgorithmName.SHA256,
        "1.2.840.10045.4.3.3" => HashAlgorithmName.SHA384,
        "1.2.840.10045.4.3.4" => HashAlgorithmName.SHA512,
        _ => null,
    };

    /// <summary>The hash of RSASSA-PSS parameters that .NET verifies as is (MGF1 with the same hash, salt = hash length, trailer 1); otherwise null.</summary>
    private static HashAlgorithmName? PssHash(Asn1Encodable? parameters)
    {
        if (parameters is null)
        {
            return null; // RFC 4055 defaults are SHA-1 with a 20-byte salt; left to BouncyCastle
        }

        RsassaPssParameters pss = RsassaPssParameters.GetInstance(parameters);
        (HashAlgorithmName Name, int Length)? hash = pss.HashAlgorithm.Algorithm.Id switch
        {
            "2.16.840.1.101.3.4.2.1" => (HashAlgorithmName.SHA256, 32),
            "2.16.840.1.101.3.4.2.2" => (HashAlgorithmName.SHA384, 48),
            "2.16.840.1.101.3.4.2.3" => (HashAlgorithmName.SHA512, 64),
            _ => null,
        };
        bool sameMgfHash = pss.MaskGenAlgorithm.Algorithm.Equals(PkcsObjectIdentifiers.IdMgf1)
            && AlgorithmIdentifier.GetInstance(pss.MaskGenAlgorithm.Parameters).Algorithm.Equals(pss.HashAlgorithm.Algorithm);
        return hash is { } h && sameMgfHash && pss.SaltLength.IntValueExact == h.Length && pss.TrailerField.IntValueExact == 1 ? h.Name : null;
    }

    /// <summary>
    /// The .NET public keys of <paramref name="certificate"/> (RSA or ECDSA), imported once per certificate and thread
    /// that verifies at the same time: an RSA import costs about 0.3 ms with OpenSSL 3, the verification itself 0.04 ms.
    /// Found by the certificate object first (the issuer a registration holds, a responder certificate loaded once), else
    /// by its SHA-256, so that another object of the same certificate shares its keys.
    /// </summary>
    private static KeyPool SystemKey(X509Certificate2 certificate)
    {
        if (SystemKeysByInstance.TryGetValue(certificate, out KeyPool? pool))
        {
            return pool;
        }

        string id = Convert.ToBase64String(certificate.GetCertHash(HashAlgorithmName.SHA256));
        pool = SystemKeys.GetOrAdd(id, static (_, c) => new KeyPool(c), certificate);
        SystemKeysByInstance.AddOrUpdate(certificate, pool);
        return pool;
    }

    /// <summary>BouncyCastle's key object for <paramref name="certificate"/>, created once per key.</summary>
    private static AsymmetricKeyParameter FallbackKey(X509Certificate2 certificate)
    {
        byte[] info = certificate.PublicKey.ExportSubjectPublicKeyInfo();
        return FallbackKeys.GetOrAdd(Convert.ToBase64String(SHA256.HashData(info)), static (_, spki) => PublicKeyFactory.CreateKey(spki), info);
    }

    /// <summary>
    /// The public key objects of one signer: .NET documents no thread safety for a shared key instance, so each
    /// verification takes an idle one (or imports one more), and puts it back. Verifications of one CA's responses run on
    /// every core at once (a warm start validates thousands); at most <see cref="MaxIdle"/> objects are kept.
    /// </summary>
    private sealed class KeyPool(X509Certificate2 certificate)
    {
        private static readonly int MaxIdle = Math.Max(4, Environment.ProcessorCount * 2);
        private readonly ConcurrentBag<AsymmetricAlgorithm> _idle = [];
        private readonly byte[] _rawData = certificate.RawData;
        private int _unsupported;

        public bool Verify(Func<AsymmetricAlgorithm, bool> verify)
        {
            if (Volatile.Read(ref _unsupported) != 0)
            {
                return false;
            }

            if (!_idle.TryTake(out AsymmetricAlgorithm? key))
            {
                // A fresh certificate object per import: the pool outlives the one it was made from.
                using var copy = X509CertificateLoader.LoadCertificate(_rawData);
                key = (AsymmetricAlgorithm?)copy.GetRSAPublicKey() ?? copy.GetECDsaPublicKey();
                if (key is null)
                {
                    Volatile.Write(ref _unsupported, 1);
                    return false;
                }
            }

            try
            {
                return verify(key);
            }
            finally
            {
                if (_idle.Count < MaxIdle)
                {
                    _idle.Add(key);
                }
                else
                {
                    key.Dispose();
                }
            }
        }
    }
}
