namespace Ocsp.Stapling;

/// <summary>
/// Why a client-certificate check decided as it did: the status of a validated answer, or why there was none. The same
/// names (in snake case) are the <c>reason</c> tag of the <c>ocsp.stapling.client_certificate.checks</c> metric.
/// </summary>
public enum OcspClientCertificateReason
{
    /// <summary>A validated answer says good: accepted.</summary>
    Good = 0,

    /// <summary>A validated answer says revoked: always rejected.</summary>
    Revoked = 1,

    /// <summary>A validated answer says unknown (the responder does not know the certificate): as <see cref="OcspClientCertificatePolicy.AcceptUnknown"/> says.</summary>
    Unknown = 2,

    /// <summary>The responder (and the shared store) gave no valid answer: failed, timed out, or answered something that did not validate. By the failure mode.</summary>
    NoAnswer = 3,

    /// <summary>The asynchronous check waited <see cref="OcspClientCertificatePolicy.FirstAnswerTimeout"/> for a first answer; the request goes on in the background. By the failure mode.</summary>
    Timeout = 4,

    /// <summary>The synchronous (TLS-level) check had no answer in memory or the shared store; the request was started in the background. By the failure mode.</summary>
    Pending = 5,

    /// <summary>The certificate names no OCSP responder (no AIA OCSP URL and no override, or the override is <c>disabled</c>). By the failure mode.</summary>
    NoResponder = 6,

    /// <summary>The client sent no certificate where one is required (TLS-level checks only): rejected.</summary>
    NoCertificate = 7,

    /// <summary>The certificate's chain does not reach a configured client CA or a trusted root (TLS-level checks only): rejected, no responder asked.</summary>
    UntrustedChain = 8,

    /// <summary>The check itself failed (a certificate the platform could not read or build a chain with; the message says what): rejected.</summary>
    CheckFailed = 9,
}
