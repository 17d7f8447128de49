using System.Security.Cryptography.X509Certificates;

namespace Ocsp.Stapling;

/// <summary>A client certificate the validator keeps an answer for (<see cref="OcspClientCertificateValidator.GetStates"/>, the status page's client section).</summary>
public sealed class OcspClientCertificateState
{
    internal OcspClientCertificateState(
        X509Certificate2 certificate, OcspCertificateId certificateId, OcspStaple? response, DateTimeOffset lastChecked, OcspClientCertificateDecision? lastDecision, OcspFailure? lastFailure)
    {
        Certificate = certificate;
        CertificateId = certificateId;
        Response = response;
        LastChecked = lastChecked;
        LastDecision = lastDecision;
        LastFailure = lastFailure;
    }

    /// <summary>Gets the client certificate.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>Gets its CertID (the shared store's key).</summary>
    public OcspCertificateId CertificateId { get; }

    /// <summary>Gets the validated response held for it (good, revoked or unknown), valid now; <see langword="null"/> when there is none.</summary>
    public OcspStaple? Response { get; }

    /// <summary>Gets when it was last checked.</summary>
    public DateTimeOffset LastChecked { get; }

    /// <summary>Gets the last decision made for it (with any policy).</summary>
    public OcspClientCertificateDecision? LastDecision { get; }

    /// <summary>Gets why its responder last failed to give a valid answer, if it did.</summary>
    public OcspFailure? LastFailure { get; }
}
