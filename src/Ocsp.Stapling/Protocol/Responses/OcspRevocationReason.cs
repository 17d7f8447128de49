namespace Ocsp.Stapling;

/// <summary>The <c>CRLReason</c> of a revoked certificate (RFC 5280 §5.3.1). The numeric values are the wire values.</summary>
public enum OcspRevocationReason
{
    /// <summary>No specific reason.</summary>
    Unspecified = 0,

    /// <summary>The certificate's private key was compromised.</summary>
    KeyCompromise = 1,

    /// <summary>The CA's private key was compromised.</summary>
    CACompromise = 2,

    /// <summary>The subject's affiliation changed.</summary>
    AffiliationChanged = 3,

    /// <summary>The certificate was replaced.</summary>
    Superseded = 4,

    /// <summary>The certificate is no longer needed.</summary>
    CessationOfOperation = 5,

    /// <summary>The certificate is on hold.</summary>
    CertificateHold = 6,

    /// <summary>Only in delta CRLs: the certificate is removed from hold.</summary>
    RemoveFromCrl = 8,

    /// <summary>A privilege was withdrawn.</summary>
    PrivilegeWithdrawn = 9,

    /// <summary>The attribute authority was compromised.</summary>
    AACompromise = 10,
}
