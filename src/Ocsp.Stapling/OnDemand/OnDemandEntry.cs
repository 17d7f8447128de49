using System.Security.Cryptography.X509Certificates;

namespace Ocsp.Stapling.Internal;

/// <summary>
/// One certificate learned on demand (a proxy's CertID of a known CA, a client certificate or one of its CAs): what to
/// ask about and whom, fixed when it is first seen, and its <see cref="State"/>, one immutable snapshot written only by
/// <see cref="OnDemandCertificates"/> under the entry's lock. Once registered, its answers are the provider's registration's.
/// </summary>
internal sealed class OnDemandEntry
{
    private readonly Lock _gate = new();
    private OnDemandState _state = OnDemandState.New;
    private long _lastUsed;

    public OnDemandEntry(OcspCertificateId id, X509Certificate2 issuer, IReadOnlyList<Uri> responders, OnDemandGroup group, DateTimeOffset now, X509Certificate2? certificate = null)
    {
        Id = id;
        Certificate = certificate;
        Issuer = issuer;
        Responders = responders;
        Group = group;
        _lastUsed = now.UtcTicks;
    }

    public OcspCertificateId Id { get; }

    /// <summary>Gets the certificate itself when its user knows it (a client certificate, a CA of its chain); a proxy knows only the CertID.</summary>
    public X509Certificate2? Certificate { get; }

    public X509Certificate2 Issuer { get; }

    /// <summary>Gets the responders it is asked of; empty when there is none to ask.</summary>
    public IReadOnlyList<Uri> Responders { get; }

    /// <summary>Gets the group whose cap its registration counts against.</summary>
    public OnDemandGroup Group { get; }

    /// <summary>Gets the state now: one snapshot, read without a lock.</summary>
    public OnDemandState State => Volatile.Read(ref _state);

    /// <summary>Gets when it was last used (UTC ticks): the idle sweep and the eviction at the cap go by it.</summary>
    public long LastUsed => Volatile.Read(ref _lastUsed);

    /// <summary>Gets the name for logs.</summary>
    public string DisplayName => Certificate is { } certificate ? CertificateNames.DisplayName(certificate) : Id.DisplayName(Issuer);

    /// <summary>Gets or sets what the entry's user keeps with it (the client validator: its decisions), set once when the entry is made.</summary>
    public object? Notes { get; init; }

    /// <summary>Records a use at <paramref name="now"/> (not state: a field written on every use, never a new snapshot).</summary>
    public void Touch(DateTimeOffset now) => Volatile.Write(ref _lastUsed, now.UtcTicks);

    /// <summary>
    /// The one way the state changes (only <see cref="OnDemandCertificates"/> calls it): under the entry's lock,
    /// <paramref name="change"/> makes the next snapshot from the current one, or <see langword="null"/> for none.
    /// </summary>
    /// <returns>The snapshot written, or <see langword="null"/>.</returns>
    internal OnDemandState? Write<TArg>(TArg arg, Func<OnDemandState, TArg, OnDemandState?> change)
    {
        lock (_gate)
        {
            OnDemandState? next = change(_state, arg);
            if (next is null || ReferenceEquals(next, _state))
            {
                return null;
            }

            Volatile.Write(ref _state, next);
            return next;
        }
    }
}
