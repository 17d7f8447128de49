using System.Security.Cryptography;

namespace Ocsp.Stapling.Internal;

/// <summary>Maps <see cref="OcspHashAlgorithm"/> to OIDs and hash functions.</summary>
internal static class HashAlgorithms
{
    public const string Sha1Oid = "1.3.14.3.2.26";
    public const string Sha256Oid = "2.16.840.1.101.3.4.2.1";
    public const string Sha384Oid = "2.16.840.1.101.3.4.2.2";
    public const string Sha512Oid = "2.16.840.1.101.3.4.2.3";

    public static string GetOid(OcspHashAlgorithm algorithm) => algorithm switch
    {
        OcspHashAlgorithm.Sha1 => Sha1Oid,
        OcspHashAlgorithm.Sha256 => Sha256Oid,
        OcspHashAlgorithm.Sha384 => Sha384Oid,
        OcspHashAlgorithm.Sha512 => Sha512Oid,
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "Unsupported CertID hash algorithm."),
    };

    public static bool TryFromOid(string oid, out OcspHashAlgorithm algorithm)
    {
        switch (oid)
        {
            case Sha1Oid: algorithm = OcspHashAlgorithm.Sha1; return true;
            case Sha256Oid: algorithm = OcspHashAlgorithm.Sha256; return true;
            case Sha384Oid: algorithm = OcspHashAlgorithm.Sha384; return true;
            case Sha512Oid: algorithm = OcspHashAlgorithm.Sha512; return true;
            default: algorithm = default; return false;
        }
    }

    public static byte[] Hash(OcspHashAlgorithm algorithm, ReadOnlySpan<byte> data) => algorithm switch
    {
#pragma warning disable CA5350 // SHA-1 is what RFC 5019 CertIDs use; it is an identifier here, not a signature.
        OcspHashAlgorithm.Sha1 => SHA1.HashData(data),
#pragma warning restore CA5350
        OcspHashAlgorithm.Sha256 => SHA256.HashData(data),
        OcspHashAlgorithm.Sha384 => SHA384.HashData(data),
        OcspHashAlgorithm.Sha512 => SHA512.HashData(data),
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "Unsupported CertID hash algorithm."),
    };

    public static int HashSize(OcspHashAlgorithm algorithm) => algorithm switch
    {
        OcspHashAlgorithm.Sha1 => 20,
        OcspHashAlgorithm.Sha256 => 32,
        OcspHashAlgorithm.Sha384 => 48,
        OcspHashAlgorithm.Sha512 => 64,
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "Unsupported CertID hash algorithm."),
    };
}
