using System.Security.Cryptography.X509Certificates;
using Ocsp.Stapling.Internal;

namespace Ocsp.Stapling;

/// <summary>
/// A snapshot of what the provider knows about one registered certificate (for health checks and diagnostics): a leaf
/// certificate, or a certificate known only by its CertID (registered by a caching proxy, <see cref="Certificate"/> is
/// then <see langword="null"/>). Every value comes from one consistent state of the registration.
/// </summary>
public sealed class OcspCertificateState
{
    private OcspCertificateState(Registration registration, RegistrationState state)
    {
        Certificate = registration.Certificate;
        CertificateId = registration.CacheId;
        Issuer = registration.Issuer;
        ResponderUris = registration.ResponderDisabled ? [] : registration.ResponderUris;
        HasResponder = registration.HasResponder;
        Staple = state.Staple;
        StapleSource = state.Staple is null ? null : state.Source;
        NextRefresh = state.Removed ? null : state.NextRefresh;
        LastFailure = state.LastFailure;
        ConsecutiveFailures = state.ConsecutiveFailures;
        Snapshot = state;
    }

    /// <summary>Gets the certificate, or <see langword="null"/> for a certificate registered by CertID.</summary>
    public X509Certificate2? Certificate { get; }

    /// <summary>Gets the CertID the certificate's responses are asked and stored under (SHA-1 unless registered by a CertID in another algorithm).</summary>
    public OcspCertificateId CertificateId { get; }

    /// <summary>Gets a name for logs and pages: the certificate's subject and serial, or the serial and issuer of a CertID.</summary>
    public string DisplayName => Certificate is { } leaf ? CertificateNames.DisplayName(leaf) : CertificateId.DisplayName(Issuer);

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

    /// <summary>Gets where <see cref="Staple"/> came from (<see cref="OcspStapleSource.Responder"/> or <see cref="OcspStapleSource.SharedStore"/>); <see langword="null"/> without a staple.</summary>
    public OcspStapleSource? StapleSource { get; }

    /// <summary>Gets when the scheduler next refreshes it (<see cref="DateTimeOffset.MaxValue"/>: never, as for a certificate without a responder).</summary>
    public DateTimeOffset? NextRefresh { get; }

    /// <summary>Gets the last failure, while the attempts since the last success have failed; <see langword="null"/> otherwise.</summary>
    public OcspFailure? LastFailure { get; }

    /// <summary>Gets the number of failed attempts since the last success.</summary>
    public int ConsecutiveFailures { get; }

    /// <summary>Gets the snapshot this state was made from (tests check that it is one that was written).</summary>
    internal RegistrationState Snapshot { get; }

    /// <summary>What <paramref name="registration"/> holds now: one snapshot, read once.</summary>
    internal static OcspCertificateState Of(Registration registration) => new(registration, registration.State);
}
