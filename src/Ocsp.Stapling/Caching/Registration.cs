using System.Diagnostics.CodeAnalysis;
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
    private string? _displayName;

    public Registration(X509Certificate2 certificate, X509Certificate2 issuer, IReadOnlyList<Uri> responderUris, bool responderDisabled)
        : this(certificate, OcspSubject.Of(certificate, issuer), requestHashAlgorithm: null, responderUris, responderDisabled)
    {
    }

    private Registration(X509Certificate2? certificate, OcspSubject subject, OcspHashAlgorithm? requestHashAlgorithm, IReadOnlyList<Uri> responderUris, bool responderDisabled)
    {
        Certificate = certificate;
        Subject = subject;
        RequestHashAlgorithm = requestHashAlgorithm;
        ResponderUris = responderUris;
        ResponderDisabled = responderDisabled;

        // The shared-cache key is the SHA-1 CertID whatever hash algorithm requests use, so that a leaf registration and
        // a proxy's registration of the same serial share one entry; only a CertID registered in another algorithm (the
        // proxy answering SHA-256 requests in kind) is kept under that algorithm's CertID.
        CacheId = subject.Id(requestHashAlgorithm ?? OcspHashAlgorithm.Sha1);
    }

    /// <summary>Gets the leaf certificate, or <see langword="null"/> for a registration by CertID (a caching proxy's).</summary>
    public X509Certificate2? Certificate { get; }

    /// <summary>Gets what is asked about: the serial number and its issuer.</summary>
    public OcspSubject Subject { get; }

    /// <summary>Gets the hash algorithm of this registration's requests, or <see langword="null"/> for <see cref="OcspFetchOptions.HashAlgorithm"/>.</summary>
    public OcspHashAlgorithm? RequestHashAlgorithm { get; }

    /// <summary>A registration for <paramref name="certificate"/>: its responders are its AIA OCSP URLs unless an override names the certificate or its issuer.</summary>
    public static Registration Create(X509Certificate2 certificate, X509Certificate2 issuer, OcspFetchOptions options)
    {
        if (options.ResponderOverrides.TryGetValue(certificate.Thumbprint, out string? value) || options.ResponderOverrides.TryGetValue(issuer.Thumbprint, out value))
        {
            return string.Equals(value, OcspStaplingOptions.DisabledResponder, StringComparison.OrdinalIgnoreCase)
                ? new Registration(certificate, issuer, [], responderDisabled: true)
                : new Registration(certificate, issuer, [new Uri(value, UriKind.Absolute)], responderDisabled: false);
        }

        return new Registration(certificate, issuer, ResponderLists.Intern(certificate.GetOcspResponderUris()), responderDisabled: false);
    }

    /// <summary>A registration by CertID: asked of <paramref name="responder"/> in the CertID's own hash algorithm.</summary>
    /// <exception cref="ArgumentException"><paramref name="certificateId"/> does not name <paramref name="issuer"/>.</exception>
    public static Registration Create(OcspCertificateId certificateId, X509Certificate2 issuer, Uri responder) =>
        new(null, OcspSubject.Of(certificateId, issuer), certificateId.HashAlgorithm, [responder], responderDisabled: false);

    /// <summary>Gets a value indicating whether this is a registration by CertID (no leaf certificate).</summary>
    [MemberNotNullWhen(false, nameof(Certificate))]
    public bool IsCertificateId => Certificate is null;

    public X509Certificate2 Issuer => Subject.Issuer;

    public OcspCertificateId CacheId { get; }

    /// <summary>Gets the name for logs, made when first asked for (100,000 registrations need not hold 100,000 names).</summary>
    public string DisplayName => _displayName ??= Certificate?.GetDisplayName() ?? CertificateNames.OfCertificateId(CacheId, Issuer);

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

    /// <summary>When the last prune asked for a refetch (guarded by the registration's lock): prunes are rate-limited per certificate.</summary>
    public DateTimeOffset? LastPruneAt { get; set; }

    public bool Removed { get; set; }

    /// <summary>Where the held staple came from: "responder" or "cache" (the shared store); set when it is adopted.</summary>
    public string? StapleSource { get; set; }

    public OcspCertificateState ToState() =>
        new(Certificate, CacheId, Issuer, Staple, Removed ? null : NextRefresh, LastFailureReason, LastFailureMessage, LastFailureAt, ConsecutiveFailures,
            ResponderDisabled ? [] : ResponderUris)
        {
            StapleSource = Staple is null ? null : StapleSource,
        };
}

/// <summary>
/// One list per distinct set of responder URLs: the certificates of a CA name the same responders, and 100,000 copies
/// of the same <see cref="Uri"/> objects would cost more than the registrations themselves. Bounded: past the cap lists
/// are kept as they come.
/// </summary>
internal static class ResponderLists
{
    private const int Cap = 4096;
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, IReadOnlyList<Uri>> Lists = new(StringComparer.Ordinal);

    public static IReadOnlyList<Uri> Intern(IReadOnlyList<Uri> uris)
    {
        if (uris.Count == 0)
        {
            return [];
        }

        string key = uris.Count == 1 ? uris[0].OriginalString : string.Join('\n', uris.Select(u => u.OriginalString));
        return Lists.TryGetValue(key, out IReadOnlyList<Uri>? shared) ? shared
            : Lists.Count < Cap ? Lists.GetOrAdd(key, uris)
            : uris;
    }
}
