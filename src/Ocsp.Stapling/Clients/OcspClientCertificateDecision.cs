namespace Ocsp.Stapling;

/// <summary>The outcome of a client-certificate revocation check: accepted or not, why, and the answer it rests on.</summary>
public sealed class OcspClientCertificateDecision
{
    internal OcspClientCertificateDecision(bool isAccepted, OcspClientCertificateReason reason, OcspStaple? response, string message, OcspCrlState? crl = null)
    {
        IsAccepted = isAccepted;
        Reason = reason;
        Response = response;
        Message = message;
        Crl = crl;
    }

    /// <summary>A refusal before any revocation check (no certificate, an untrusted chain, a check that failed).</summary>
    internal static OcspClientCertificateDecision Refused(OcspClientCertificateReason reason, string message) => new(false, reason, null, message);

    /// <summary>Gets a value indicating whether the certificate is accepted.</summary>
    public bool IsAccepted { get; }

    /// <summary>Gets why: the validated answer's status, or why there was none (for a chain, the certificate that decided: a revoked CA, one without an answer).</summary>
    public OcspClientCertificateReason Reason { get; }

    /// <summary>Gets the validated response the decision rests on (of the certificate that decided); <see langword="null"/> when there was none.</summary>
    public OcspStaple? Response { get; }

    /// <summary>Gets the CRL the decision rests on (of the certificate that decided); <see langword="null"/> when it rests on none.</summary>
    public OcspCrlState? Crl { get; }

    /// <summary>Gets what the decision rests on: an OCSP response, a CRL, or neither (the failure mode decided).</summary>
    public OcspRevocationSource Source => Response is not null ? OcspRevocationSource.Ocsp : Crl is not null ? OcspRevocationSource.Crl : OcspRevocationSource.None;

    /// <summary>Gets the decision in words, for a log line or a rejection's reason (no secrets, no certificate contents beyond its serial).</summary>
    public string Message { get; }

    /// <inheritdoc/>
    public override string ToString() => Message;
}
