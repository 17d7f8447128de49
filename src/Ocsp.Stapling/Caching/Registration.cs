using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography.X509Certificates;

namespace Ocsp.Stapling.Internal;

/// <summary>
/// One certificate kept stapled: what to ask for and whom (fixed at registration), and its <see cref="State"/>, one
/// immutable snapshot that <see cref="Write{TArg}"/> replaces whole. Its one writer is <see cref="RegistrationStore"/>
/// (the refresher, the scheduler and the provider ask it), serialised by the registration's own lock; readers read
/// <see cref="State"/> once and take no lock.
/// </summary>
internal sealed class Registration : IFetchTarget
{
    private readonly Lock _gate = new();
    private RegistrationState _state = RegistrationState.Initial;
    private string? _displayName;

    internal Registration(X509Certificate2? certificate, OcspSubject subject, OcspHashAlgorithm? requestHashAlgorithm, IReadOnlyList<Uri> responderUris, bool responderDisabled)
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

    /// <summary>Gets a value indicating whether this is a registration by CertID (no leaf certificate).</summary>
    [MemberNotNullWhen(false, nameof(Certificate))]
    public bool IsCertificateId => Certificate is null;

    public X509Certificate2 Issuer => Subject.Issuer;

    public OcspCertificateId CacheId { get; }

    /// <summary>Gets the name for logs, made when first asked for (100,000 registrations need not hold 100,000 names).</summary>
    public string DisplayName => _displayName ??= Certificate is { } leaf ? CertificateNames.DisplayName(leaf) : CacheId.DisplayName(Issuer);

    public IReadOnlyList<Uri> ResponderUris { get; }

    public bool ResponderDisabled { get; }

    /// <summary>Gets a value indicating whether there is a responder to ask.</summary>
    public bool HasResponder => !ResponderDisabled && ResponderUris.Count > 0;

    /// <summary>Gets the state now: one snapshot, read without a lock.</summary>
    public RegistrationState State => Volatile.Read(ref _state);

    /// <inheritdoc />
    public int PreferredResponder => State.PreferredResponder;

    /// <summary>
    /// The expiry timer of the held staple. Touched only under the registration's lock (the callbacks of
    /// <see cref="Write{TArg}"/> and <see cref="Read{TArg}"/>), so that the timer always follows the snapshot last written.
    /// </summary>
    public ITimer? ExpiryTimer { get; set; }

    /// <summary>Gets or sets a test's observer of every snapshot written (inside the lock, in write order).</summary>
    internal Action<Registration, RegistrationState>? Observer { get; set; }

    /// <summary>A registration for <paramref name="certificate"/>: its responders are its AIA OCSP URLs unless an override names the certificate or its issuer.</summary>
    public static Registration Create(X509Certificate2 certificate, X509Certificate2 issuer, OcspFetchOptions options)
    {
        var subject = OcspSubject.Of(certificate, issuer);
        if (options.ResponderOverrides.TryGetValue(certificate.Thumbprint, out string? value) || options.ResponderOverrides.TryGetValue(issuer.Thumbprint, out value))
        {
            return string.Equals(value, OcspFetchOptions.DisabledResponder, StringComparison.OrdinalIgnoreCase)
                ? new Registration(certificate, subject, null, [], responderDisabled: true)
                : new Registration(certificate, subject, null, [new Uri(value, UriKind.Absolute)], responderDisabled: false);
        }

        return new Registration(certificate, subject, null, Responders.Intern(certificate.GetOcspResponderUris()), responderDisabled: false);
    }

    /// <summary>A registration by CertID: asked of <paramref name="responders"/> (in order, the last that answered first) in the CertID's own hash algorithm.</summary>
    /// <exception cref="ArgumentException"><paramref name="certificateId"/> does not name <paramref name="issuer"/>.</exception>
    public static Registration Create(OcspCertificateId certificateId, X509Certificate2 issuer, IReadOnlyList<Uri> responders) =>
        new(null, OcspSubject.Of(certificateId, issuer), certificateId.HashAlgorithm, Responders.Intern([.. responders]), responderDisabled: false);

    /// <summary>
    /// The one way the state changes: under the registration's lock, <paramref name="change"/> makes the next snapshot
    /// from the current one (or <see langword="null"/>, or the same one, for no change), which then replaces it whole;
    /// <paramref name="then"/> runs after, still under the lock (arming the expiry timer for what was written).
    /// </summary>
    /// <returns>The snapshot written, or <see langword="null"/> when nothing changed.</returns>
    public RegistrationState? Write<TArg>(
        TArg arg, Func<RegistrationState, TArg, RegistrationState?> change, Action<Registration, RegistrationState, TArg>? then = null)
    {
        lock (_gate)
        {
            RegistrationState current = _state;
            RegistrationState? next = change(current, arg);
            if (next is null || ReferenceEquals(next, current))
            {
                return null;
            }

            System.Diagnostics.Debug.Assert(!ReferenceEquals(next, RegistrationState.Initial), "A change makes a new snapshot (current with { … }).");

            next = next with { Version = current.Version + 1 }; // numbered here, so no change can forget or forge it
            Observer?.Invoke(this, next); // before it is published: whatever a reader sees was observed first
            Volatile.Write(ref _state, next);
            then?.Invoke(this, next, arg);
            return next;
        }
    }

    /// <summary>Runs <paramref name="action"/> with the state now, under the registration's lock, without writing (re-arming the expiry timer).</summary>
    public void Read<TArg>(TArg arg, Action<Registration, RegistrationState, TArg> action)
    {
        lock (_gate)
        {
            action(this, _state, arg);
        }
    }

}
