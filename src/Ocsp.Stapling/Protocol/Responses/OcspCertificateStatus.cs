namespace Ocsp.Stapling;

/// <summary>The status a responder asserts for one certificate (RFC 6960 §4.2.1, <c>CertStatus</c>).</summary>
public enum OcspCertificateStatus
{
    /// <summary>The certificate is not revoked.</summary>
    Good = 0,

    /// <summary>The certificate is revoked.</summary>
    Revoked = 1,

    /// <summary>The responder does not know the certificate.</summary>
    Unknown = 2,
}
