namespace Ocsp.Stapling;

/// <summary>The outcome of a client-certificate revocation check: accepted or not, why, and the answer it rests on.</summary>
public sealed class OcspClientCertificateDecision
{
    internal OcspClientCertificateDecision(bool isAccepted, OcspClientCertificateReason reason, OcspStaple? response, string message)
    {
        IsAccepted = isAccepted;
        Reason = reason;
        Response = response;
        Message = message;
    }

    /// <summary>A refusal before any revocation check (no certificate, an untrusted chain, a check that failed).</summary>
    internal static OcspClientCertificateDecision Refused(OcspClientCertificateReason reason, string message) => new(false, reason, null, message);

    /// <summary>Gets a value indicating whether the certificate is accepted.</summary>
    public bool IsAccepted { get; }

    /// <summary>Gets why: the validated answer's status, or why there was none (for a chain, the certificate that decided: a revoked CA, one without an answer).</summary>
    public OcspClientCertificateReason Reason { get; }

    /// <summary>Gets the validated response the decision rests on (of the certificate that decided); <see langword="null"/> when there was none.</summary>
    public OcspStaple? Response { get; }

    /// <summary>Gets the decision in words, for a log line or a rejection's reason (no secrets, no certificate contents beyond its serial).</summary>
    public string Message { get; }

    /// <inheritdoc/>
    public override string ToString() => Message;
}
