using System.Security.Cryptography.X509Certificates;

namespace Ocsp.Stapling.Internal;

/// <summary>One certificate kept stapled: what to ask for, what is held, and when to ask again.</summary>
internal sealed class Registration
{
    private OcspStaple? _staple;
    private OcspStaple? _servable;

    public Registration(X509Certificate2 certificate, X509Certificate2 issuer, IReadOnlyList<Uri> responderUris, bool responderDisabled)
    {
        Certificate = certificate;
        Issuer = issuer;
        ResponderUris = responderUris;
        ResponderDisabled = responderDisabled;

        // The shared-cache key is always the SHA-1 CertID: stable whatever hash algorithm requests use.
        CacheId = OcspCertificateId.Create(certificate, issuer, OcspHashAlgorithm.Sha1);
        DisplayName = certificate.GetDisplayName();
    }

    public X509Certificate2 Certificate { get; }

    public X509Certificate2 Issuer { get; }

    public OcspCertificateId CacheId { get; }

    public string DisplayName { get; }

    public IReadOnlyList<Uri> ResponderUris { get; }

    public bool ResponderDisabled { get; }

    /// <summary>Index of the responder URL that answered last; tried first next time.</summary>
    public int PreferredResponder { get; set; }

    /// <summary>The latest validated response (may be revoked or expired: the lookup checks). Read lock-free on the handshake path.</summary>
    public OcspStaple? Staple
    {
        get => Volatile.Read(ref _staple);
        set => Volatile.Write(ref _staple, value);
    }

    /// <summary>
    /// What handshakes get: <see cref="Staple"/> when it may be stapled (good, or revoked with StapleRevoked), cleared by
    /// <see cref="ExpiryTimer"/> at its nextUpdate. The lookup reads only this: no clock read on the handshake path.
    /// </summary>
    public OcspStaple? Servable
    {
        get => Volatile.Read(ref _servable);
        set => Volatile.Write(ref _servable, value);
    }

    /// <summary>Fires at the servable staple's nextUpdate. Guarded by lock(this).</summary>
    public ITimer? ExpiryTimer { get; set; }

    /// <summary>Set once the expiry of <see cref="Staple"/> has been reported.</summary>
    public bool ExpiryReported { get; set; }

    public DateTimeOffset NextRefresh { get; set; }

    public int ConsecutiveFailures { get; set; }

    public string? LastFailureReason { get; set; }

    public string? LastFailureMessage { get; set; }

    public DateTimeOffset? LastFailureAt { get; set; }

    /// <summary>The refresh under way, shared by every caller (single flight). Guarded by lock(this).</summary>
    public Task<OcspStaple?>? InFlight { get; set; }

    public bool Removed { get; set; }

    public OcspCertificateState ToState() =>
        new(Certificate, Issuer, Staple, Removed ? null : NextRefresh, LastFailureReason, LastFailureMessage, LastFailureAt, ConsecutiveFailures,
            ResponderDisabled ? [] : ResponderUris);
}
