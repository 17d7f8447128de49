namespace Ocsp.Stapling;

/// <summary>
/// The hash algorithm used to compute the issuer name and key hashes of an OCSP <c>CertID</c> (RFC 6960 §4.1.1).
/// </summary>
public enum OcspHashAlgorithm
{
    /// <summary>SHA-1, the algorithm RFC 5019 §2.1.1 requires lightweight responders to support. The default.</summary>
    Sha1 = 0,

    /// <summary>SHA-256.</summary>
    Sha256 = 1,

    /// <summary>SHA-384. Accepted in responses; rarely used in requests.</summary>
    Sha384 = 2,

    /// <summary>SHA-512. Accepted in responses; rarely used in requests.</summary>
    Sha512 = 3,
}
