namespace Ocsp.Stapling;

/// <summary>What a client-certificate check decides when it has no valid answer for the certificate (see <see cref="OcspClientCertificatePolicy"/>).</summary>
public enum OcspClientFailureMode
{
    /// <summary>No valid answer: the certificate is rejected. A responder outage then locks clients out; a revoked certificate never gets in.</summary>
    FailClosed = 0,

    /// <summary>No valid answer: the certificate is accepted and the decision logged. A responder outage locks nobody out; a revoked certificate gets in while it lasts.</summary>
    FailOpen = 1,
}
