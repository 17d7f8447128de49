using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography.X509Certificates;

namespace Ocsp.Stapling.Internal;

/// <summary>
/// The registry and staple store (L1): every registered certificate, found lock-free on the handshake path, and the
/// only writer of a registration's staple and failure state. Every write takes <c>lock(registration)</c>. Add, remove
/// and lookup cost O(1); writers are serialised, readers never wait.
/// </summary>
internal sealed class RegistrationStore : IDisposable
{
    private readonly object _gate = new();
    private readonly ConcurrentDictionary<X509Certificate2, Registration> _byReference = new(ReferenceEqualityComparer.Instance);
    private readonly ConcurrentDictionary<ReadOnlyMemory<byte>, Registration> _byRawData = new(RawDataComparer.Instance);
    private readonly ConcurrentDictionary<OcspCertificateId, Registration> _byCertificateId = new();
    private readonly TimeProvider _time;
    private readonly bool _stapleRevoked;

    public RegistrationStore(TimeProvider time, OcspStaplingOptions options)
    {
        _time = time;
        _stapleRevoked = options.StapleRevoked;
    }

    /// <summary>Raised (outside any lock) when a held staple reaches its nextUpdate with nothing newer in its place.</summary>
    public event Action<Registration, OcspStaple>? Expired;

    public int Count => _byRawData.Count + _byCertificateId.Count;

    /// <summary>Every registration; a lock-free, moment-in-time enumeration.</summary>
    public IEnumerable<Registration> All
    {
        get
        {
            foreach (KeyValuePair<ReadOnlyMemory<byte>, Registration> pair in _byRawData)
            {
                yield return pair.Value;
            }

            foreach (KeyValuePair<OcspCertificateId, Registration> pair in _byCertificateId)
            {
                yield return pair.Value;
            }
        }
    }

    /// <summary>The handshake path: reference first, then DER bytes (another instance of the same certificate). No lock, no allocation.</summary>
    public Registration? Find(X509Certificate2 certificate) =>
        _byReference.TryGetValue(certificate, out Registration? registration) || _byRawData.TryGetValue(certificate.RawDataMemory, out registration)
            ? registration
            : null;

    /// <summary>Finds the registration by CertID (<see cref="Registration.CacheId"/>) of a certificate known only by it.</summary>
    public Registration? Find(OcspCertificateId certificateId) => _byCertificateId.GetValueOrDefault(certificateId);

    /// <summary>Adds <paramref name="registration"/>; <see langword="false"/> when its certificate (or CertID) is already registered.</summary>
    public bool TryAdd(Registration registration)
    {
        if (registration.IsCertificateId)
        {
            return _byCertificateId.TryAdd(registration.CacheId, registration);
        }

        lock (_gate)
        {
            if (!_byRawData.TryAdd(registration.Certificate.RawDataMemory, registration))
            {
                return false;
            }

            _byReference[registration.Certificate] = registration;
            return true;
        }
    }

    /// <summary>Removes the certificate's registration and stops serving its staple; returns it and the staple that was served.</summary>
    public Registration? Remove(X509Certificate2 certificate, out OcspStaple? served)
    {
        Registration? registration;
        lock (_gate)
        {
            if (!_byRawData.TryRemove(certificate.RawDataMemory, out registration))
            {
                served = null;
                return null;
            }

            _byReference.TryRemove(registration.Certificate!, out _);
        }

        return Retire(registration, out served);
    }

    /// <summary>Removes the registration by CertID; returns it and the staple that was served.</summary>
    public Registration? Remove(OcspCertificateId certificateId, out OcspStaple? served)
    {
        if (!_byCertificateId.TryRemove(certificateId, out Registration? registration))
        {
            served = null;
            return null;
        }

        return Retire(registration, out served);
    }

    private static Registration Retire(Registration registration, out OcspStaple? served)
    {
        lock (registration)
        {
            served = registration.Servable;
            registration.Removed = true;
            registration.Servable = null;
            registration.ExpiryTimer?.Dispose();
            registration.ExpiryTimer = null;
        }

        return registration;
    }

    public bool IsServable(OcspStaple staple) =>
        staple.Status == OcspCertificateStatus.Good || (staple.Status == OcspCertificateStatus.Revoked && _stapleRevoked);

    /// <summary>The held response when valid at <paramref name="now"/>, whatever its status.</summary>
    public static OcspStaple? Held(Registration registration, DateTimeOffset now) =>
        registration.Staple is { } staple && staple.IsValidAt(now) ? staple : null;

    /// <summary>The held response when valid at <paramref name="now"/> and servable.</summary>
    public OcspStaple? Servable(Registration registration, DateTimeOffset now) =>
        Held(registration, now) is { } staple && IsServable(staple) ? staple : null;

    /// <summary>Makes <paramref name="staple"/> current unless the held one is newer: never go back in time, never take an invalid one.</summary>
    public bool Adopt(Registration registration, OcspStaple staple)
    {
        DateTimeOffset now = _time.GetUtcNow();
        lock (registration)
        {
            OcspStaple? held = registration.Staple;
            if (!staple.IsValidAt(now)
                || (held is not null && held.IsValidAt(now)
                    && (staple.ThisUpdate < held.ThisUpdate || (staple.ThisUpdate == held.ThisUpdate && staple.ProducedAt <= held.ProducedAt))))
            {
                return false;
            }

            registration.Staple = staple;
            registration.ExpiryReported = false;
            registration.Servable = registration.Removed || !IsServable(staple) ? null : staple;
            if (registration.Removed)
            {
                return true;
            }

            // Expiry is a timer at nextUpdate, not a clock read per lookup: the handshake path stays a dictionary hit.
            TimeSpan due = staple.NextUpdate - now;
            if (registration.ExpiryTimer is null)
            {
                registration.ExpiryTimer = _time.CreateTimer(static state => ((ExpiryState)state!).Fire(), new ExpiryState(this, registration), due, Timeout.InfiniteTimeSpan);
            }
            else
            {
                registration.ExpiryTimer.Change(due, Timeout.InfiniteTimeSpan);
            }

            return true;
        }
    }

    /// <summary>Records an answer: failures cleared, <paramref name="responderIndex"/> tried first next time.</summary>
    [SuppressMessage("Performance", "CA1822:Mark members as static", Justification = "Part of the store's write API: every write goes through the store.")]
    public void RecordSuccess(Registration registration, int? responderIndex = null)
    {
        lock (registration)
        {
            registration.ConsecutiveFailures = 0;
            registration.LastFailureReason = null;
            registration.LastFailureMessage = null;
            registration.LastValidationFailure = OcspValidationFailure.None;
            if (responderIndex is { } index)
            {
                registration.PreferredResponder = index;
            }
        }
    }

    /// <summary>Records a failed attempt; returns the number of consecutive failures (for the back-off), or 0 when <paramref name="countsAsFailure"/> is false.</summary>
    public int RecordFailure(Registration registration, string reason, string message, OcspValidationFailure validationFailure, bool countsAsFailure = true)
    {
        lock (registration)
        {
            if (countsAsFailure)
            {
                registration.ConsecutiveFailures++;
            }

            registration.LastFailureReason = reason;
            registration.LastFailureMessage = message;
            registration.LastValidationFailure = validationFailure;
            registration.LastFailureAt = _time.GetUtcNow();
            return registration.ConsecutiveFailures;
        }
    }

    /// <summary>Forgets the held staple (prune); returns it.</summary>
    [SuppressMessage("Performance", "CA1822:Mark members as static", Justification = "Part of the store's write API: every write goes through the store.")]
    public OcspStaple? Clear(Registration registration)
    {
        lock (registration)
        {
            OcspStaple? held = registration.Staple;
            registration.Staple = null;
            registration.Servable = null;
            registration.ExpiryTimer?.Dispose();
            registration.ExpiryTimer = null;
            return held;
        }
    }

    public void Dispose()
    {
        foreach (Registration registration in All)
        {
            lock (registration)
            {
                registration.ExpiryTimer?.Dispose();
                registration.ExpiryTimer = null;
            }
        }
    }

    /// <summary>
    /// After a wall-clock step: every staple now past its nextUpdate stops being served (and is reported), every other
    /// expiry timer is re-armed for the new clock. Returns how many expired. O(n), run only when the clock stepped.
    /// </summary>
    public int Resynchronize()
    {
        int expired = 0;
        foreach (Registration registration in All)
        {
            OcspStaple? staple = registration.Staple;
            if (staple is null)
            {
                continue;
            }

            bool wasServed = registration.Servable is not null;
            Expire(registration);
            expired += wasServed && registration.Servable is null ? 1 : 0;
        }

        return expired;
    }

    /// <summary>The expiry timer fired: stop serving the staple if its nextUpdate has passed (re-arm if the timer was early), then report it once.</summary>
    private void Expire(Registration registration)
    {
        OcspStaple? expired;
        lock (registration)
        {
            DateTimeOffset now = _time.GetUtcNow();
            expired = registration.Staple;
            if (expired is null || registration.ExpiryReported || registration.Removed)
            {
                return;
            }

            if (expired.IsValidAt(now))
            {
                registration.ExpiryTimer?.Change(expired.NextUpdate - now, Timeout.InfiniteTimeSpan);
                return;
            }

            registration.Servable = null;
            registration.ExpiryReported = true;
        }

        Expired?.Invoke(registration, expired);
    }

    /// <summary>Timer state: the store and the registration whose staple expires.</summary>
    private sealed class ExpiryState(RegistrationStore store, Registration registration)
    {
        public void Fire() => store.Expire(registration);
    }
}
