using System.Security.Cryptography.X509Certificates;

namespace Ocsp.Stapling;

/// <summary>
/// A snapshot of what the provider knows about one registered certificate (for health checks and diagnostics): a leaf
/// certificate, or a certificate known only by its CertID (registered by a caching proxy, <see cref="Certificate"/> is
/// then <see langword="null"/>).
/// </summary>
public sealed class OcspCertificateState
{
    internal OcspCertificateState(
        X509Certificate2? certificate, OcspCertificateId certificateId, X509Certificate2 issuer, OcspStaple? staple, DateTimeOffset? nextRefresh, string? lastFailureReason, string? lastFailureMessage, DateTimeOffset? lastFailureAt, int consecutiveFailures,
        IReadOnlyList<Uri> responderUris)
    {
        Issuer = issuer;
        ResponderUris = responderUris;
        bool hasResponder = responderUris.Count > 0;
        HasResponder = hasResponder;
        Certificate = certificate;
        CertificateId = certificateId;
        Staple = staple;
        NextRefresh = nextRefresh;
        LastFailureReason = lastFailureReason;
        LastFailureMessage = lastFailureMessage;
        LastFailureAt = lastFailureAt;
        ConsecutiveFailures = consecutiveFailures;
    }

    /// <summary>Gets the certificate, or <see langword="null"/> for a certificate registered by CertID.</summary>
    public X509Certificate2? Certificate { get; }

    /// <summary>Gets the CertID the certificate's responses are asked and stored under (SHA-1 unless registered by a CertID in another algorithm).</summary>
    public OcspCertificateId CertificateId { get; }

    /// <summary>Gets a name for logs and pages: the certificate's subject and serial, or the serial and issuer of a CertID.</summary>
    public string DisplayName => Certificate?.GetDisplayName() ?? Internal.CertificateNames.OfCertificateId(CertificateId, Issuer);

    /// <summary>Gets the certificate's issuer (the CA whose key signs, or delegates signing of, its OCSP responses).</summary>
    public X509Certificate2 Issuer { get; }

    /// <summary>Gets the responders the provider asks, in order: the AIA OCSP URLs or the configured override; empty when none or disabled.</summary>
    public IReadOnlyList<Uri> ResponderUris { get; }

    /// <summary>Gets a value indicating whether the certificate demands stapling (TLS Feature status_request); <see langword="false"/> when known only by CertID.</summary>
    public bool IsMustStaple => Certificate?.IsMustStaple() ?? false;

    /// <summary>Gets a value indicating whether there is a responder to ask (an HTTP OCSP URL in AIA or an override, not disabled).</summary>
    public bool HasResponder { get; }

    /// <summary>Gets the latest validated response held (may be expired or revoked: check before use).</summary>
    public OcspStaple? Staple { get; }

    /// <summary>Gets when the scheduler next refreshes it.</summary>
    public DateTimeOffset? NextRefresh { get; }

    /// <summary>Gets the reason code of the last failure, if the last attempt failed.</summary>
    public string? LastFailureReason { get; }

    /// <summary>Gets the explanation of the last failure.</summary>
    public string? LastFailureMessage { get; }

    /// <summary>Gets when the last failure happened.</summary>
    public DateTimeOffset? LastFailureAt { get; }

    /// <summary>Gets the number of failed attempts since the last success.</summary>
    public int ConsecutiveFailures { get; }

    /// <summary>Gets where <see cref="Staple"/> came from: <c>"responder"</c> (fetched by this process) or <c>"cache"</c> (read from the shared store, written by this or another process); <see langword="null"/> without a staple.</summary>
    public string? StapleSource { get; internal init; }
}
