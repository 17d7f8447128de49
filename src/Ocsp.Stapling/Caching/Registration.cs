using System.Security.Cryptography.X509Certificates;

namespace Ocsp.Stapling.Internal;

/// <summary>
/// One certificate kept stapled: what to ask for, what is held, and when to ask again. Its staple and failure state are
/// written only by <see cref="RegistrationStore"/> and its due time only by <see cref="RefreshScheduler"/>, each under
/// <c>lock(this)</c>; the handshake path reads <see cref="Servable"/> without a lock.
/// </summary>
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

    /// <summary>A registration for <paramref name="certificate"/>: its responders are its AIA OCSP URLs unless an override names the certificate or its issuer.</summary>
    public static Registration Create(X509Certificate2 certificate, X509Certificate2 issuer, OcspFetchOptions options)
    {
        if (options.ResponderOverrides.TryGetValue(certificate.Thumbprint, out string? value) || options.ResponderOverrides.TryGetValue(issuer.Thumbprint, out value))
        {
            return string.Equals(value, OcspStaplingOptions.DisabledResponder, StringComparison.OrdinalIgnoreCase)
                ? new Registration(certificate, issuer, [], responderDisabled: true)
                : new Registration(certificate, issuer, [new Uri(value, UriKind.Absolute)], responderDisabled: false);
        }

        return new Registration(certificate, issuer, certificate.GetOcspResponderUris(), responderDisabled: false);
    }

    public X509Certificate2 Issuer { get; }

    public OcspCertificateId CacheId { get; }

    public string DisplayName { get; }

    public IReadOnlyList<Uri> ResponderUris { get; }

    public bool ResponderDisabled { get; }

    /// <summary>Gets a value indicating whether there is a responder to ask.</summary>
    public bool HasResponder => !ResponderDisabled && ResponderUris.Count > 0;

    /// <summary>Index of the responder URL that answered last; tried first next time.</summary>
    public int PreferredResponder { get; set; }

    /// <summary>The latest validated response (may be revoked or expired: readers check).</summary>
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

    /// <summary>Fires at the held staple's nextUpdate.</summary>
    public ITimer? ExpiryTimer { get; set; }

    /// <summary>Set once the expiry of <see cref="Staple"/> has been reported.</summary>
    public bool ExpiryReported { get; set; }

    /// <summary>When the scheduler refreshes it next; <see cref="DateTimeOffset.MaxValue"/> for never.</summary>
    public DateTimeOffset NextRefresh { get; set; }

    /// <summary>Bumped by every schedule: queue entries of an older version are stale.</summary>
    public long ScheduleVersion { get; set; }

    public int ConsecutiveFailures { get; set; }

    public string? LastFailureReason { get; set; }

    public string? LastFailureMessage { get; set; }

    public OcspValidationFailure LastValidationFailure { get; set; }

    public DateTimeOffset? LastFailureAt { get; set; }

    /// <summary>The refresh under way, shared by every caller (single flight).</summary>
    public Task<OcspRefreshResult>? InFlight { get; set; }

    public bool Removed { get; set; }

    public OcspCertificateState ToState() =>
        new(Certificate, Issuer, Staple, Removed ? null : NextRefresh, LastFailureReason, LastFailureMessage, LastFailureAt, ConsecutiveFailures,
            ResponderDisabled ? [] : ResponderUris);
}
