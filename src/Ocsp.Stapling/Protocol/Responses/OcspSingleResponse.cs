namespace Ocsp.Stapling;

/// <summary>One <c>SingleResponse</c> of a basic OCSP response (RFC 6960 §4.2.1): the status of one certificate.</summary>
public sealed class OcspSingleResponse
{
    internal OcspSingleResponse(
        OcspCertificateId certificateId,
        OcspCertificateStatus status,
        DateTimeOffset thisUpdate,
        DateTimeOffset? nextUpdate,
        DateTimeOffset? revocationTime,
        OcspRevocationReason? revocationReason)
    {
        CertificateId = certificateId;
        Status = status;
        ThisUpdate = thisUpdate;
        NextUpdate = nextUpdate;
        RevocationTime = revocationTime;
        RevocationReason = revocationReason;
    }

    /// <summary>Gets the CertID this status is for.</summary>
    public OcspCertificateId CertificateId { get; }

    /// <summary>Gets the certificate status.</summary>
    public OcspCertificateStatus Status { get; }

    /// <summary>Gets the time at which the status was known to be correct.</summary>
    public DateTimeOffset ThisUpdate { get; }

    /// <summary>Gets the time by which newer status will be available, or <see langword="null"/> when the responder gave none.</summary>
    public DateTimeOffset? NextUpdate { get; }

    /// <summary>Gets the revocation time when <see cref="Status"/> is <see cref="OcspCertificateStatus.Revoked"/>.</summary>
    public DateTimeOffset? RevocationTime { get; }

    /// <summary>Gets the revocation reason when the responder gave one.</summary>
    public OcspRevocationReason? RevocationReason { get; }
}
