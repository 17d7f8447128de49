using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;

namespace Ocsp.Stapling.Internal;

/// <summary>
/// The registry and staple store (L1): every registered certificate, found lock-free on the handshake path, and the
/// writes of a registration's staple and failure state (each one <see cref="Registration.Write{TArg}"/>). Add, remove
/// and lookup cost O(1); writers of one registration are serialised, readers never wait.
/// </summary>
internal sealed class RegistrationStore : IDisposable
{
    private readonly object _gate = new();
    private readonly ConcurrentDictionary<X509Certificate2, Registration> _byReference = new(ReferenceEqualityComparer.Instance);
    private readonly ConcurrentDictionary<ReadOnlyMemory<byte>, Registration> _byRawData = new(RawDataComparer.Instance);
    private readonly ConcurrentDictionary<OcspCertificateId, Registration> _byCertificateId = new();
    private readonly TimeProvider _time;
    private readonly bool _stapleRevoked;

    public RegistrationStore(TimeProvider time, bool stapleRevoked)
    {
        _time = time;
        _stapleRevoked = stapleRevoked;
    }

    /// <summary>Raised (outside any lock) when a held staple reaches its nextUpdate with nothing newer in its place.</summary>
    public event Action<Registration, OcspStaple>? Expired;

    public int Count => _byRawData.Count + _byCertificateId.Count;

    /// <summary>Gets or sets a test's observer of every snapshot written, given to each registration before it is added.</summary>
    internal Action<Registration, RegistrationState>? Observer { get; set; }

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
        registration.Observer ??= Observer;
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
        OcspStaple? wasServed = null;
        registration.Write(
            0,
            (state, _) =>
            {
                if (state.Removed)
                {
                    return null;
                }

                wasServed = state.Served;
                return state with { Removed = true, Served = null, NextRefresh = DateTimeOffset.MaxValue };
            },
            static (registration, _, _) => DisposeTimer(registration));
        served = wasServed;
        return registration;
    }

    public bool MayServe(OcspStaple staple) =>
        staple.Status == OcspCertificateStatus.Good || (staple.Status == OcspCertificateStatus.Revoked && _stapleRevoked);

    /// <summary>The held response when valid at <paramref name="now"/> and servable.</summary>
    public OcspStaple? Served(RegistrationState state, DateTimeOffset now) =>
        state.ValidResponse(now) is { } staple && MayServe(staple) ? staple : null;

    /// <summary>
    /// Makes <paramref name="staple"/> current unless the held one is newer: never go back in time, never take an invalid
    /// one. Its expiry timer is armed in the same write.
    /// </summary>
    public bool Adopt(Registration registration, OcspStaple staple, OcspStapleSource source)
    {
        var change = (Store: this, Staple: staple, Source: source, Now: _time.GetUtcNow());
        return registration.Write(
            change,
            static (state, c) =>
            {
                OcspStaple? held = state.Staple;
                if (!c.Staple.IsValidAt(c.Now)
                    || (held is not null && held.IsValidAt(c.Now)
                        && (c.Staple.ThisUpdate < held.ThisUpdate || (c.Staple.ThisUpdate == held.ThisUpdate && c.Staple.ProducedAt <= held.ProducedAt))))
                {
                    return null;
                }

                return state with
                {
                    Staple = c.Staple,
                    Source = c.Source,
                    ExpiryReported = false,
                    Served = state.Removed || !c.Store.MayServe(c.Staple) ? null : c.Staple,
                };
            },
            static (registration, state, c) => c.Store.ArmExpiry(registration, state, c.Now)) is not null;
    }

    /// <summary>
    /// Records an answer and the next refresh in one write: failures cleared, <paramref name="responderIndex"/> tried
    /// first next time. Returns the snapshot written.
    /// </summary>
    public static RegistrationState RecordSuccess(Registration registration, DateTimeOffset nextRefresh, int? responderIndex = null) =>
        registration.Write(
            (Next: nextRefresh, Index: responderIndex),
            static (state, c) => state with
            {
                ConsecutiveFailures = 0,
                LastFailure = null,
                NextRefresh = state.Removed ? DateTimeOffset.MaxValue : c.Next,
                PreferredResponder = c.Index ?? state.PreferredResponder,
            }) ?? registration.State;

    /// <summary>
    /// Records a failed attempt and, in the same write, when to try again (<paramref name="retryAt"/> of the new number
    /// of consecutive failures); <paramref name="countsAsFailure"/> false records the failure without counting it (nothing
    /// to ask). Returns the snapshot written.
    /// </summary>
    public static RegistrationState RecordFailure(Registration registration, OcspFailure failure, Func<int, DateTimeOffset> retryAt, bool countsAsFailure = true) =>
        registration.Write(
            (Failure: failure, RetryAt: retryAt, Counts: countsAsFailure),
            static (state, c) =>
            {
                int failures = c.Counts ? state.ConsecutiveFailures + 1 : state.ConsecutiveFailures;
                return state with
                {
                    ConsecutiveFailures = failures,
                    LastFailure = c.Failure,
                    NextRefresh = state.Removed ? DateTimeOffset.MaxValue : c.RetryAt(failures),
                };
            }) ?? registration.State;

    /// <summary>Sets when the registration is refreshed next (the scheduler's due time); nothing for a removed one or the same time.</summary>
    /// <returns>Whether the registration is still kept (a removed one is not scheduled).</returns>
    public static bool Reschedule(Registration registration, DateTimeOffset at)
    {
        registration.Write(at, static (state, at) => state.Removed || state.NextRefresh == at ? null : state with { NextRefresh = at });
        return !registration.State.Removed;
    }

    /// <summary>
    /// Records a prune at <paramref name="now"/> unless it must be refused — inside the failure back-off (unless a refresh
    /// is under way, which it joins), or within <paramref name="interval"/> of the last one — decided and recorded in one
    /// write, so that two prunes at once cannot both pass.
    /// </summary>
    /// <returns><see langword="null"/> when recorded; otherwise why it is refused.</returns>
    public static string? TryRecordPrune(Registration registration, DateTimeOffset now, bool refreshing, TimeSpan interval)
    {
        string? refusal = null;
        registration.Write(
            (Now: now, Refreshing: refreshing, Interval: interval),
            (state, c) =>
            {
                if (!c.Refreshing && state.InBackoff(c.Now))
                {
                    refusal = $"the responder failed {state.ConsecutiveFailures} time(s); the next attempt is at {state.NextRefresh:u} (failure back-off)";
                    return null;
                }

                if (state.LastPruneAt is { } last && c.Now - last < c.Interval && c.Now >= last)
                {
                    refusal = $"the last prune was at {last:u}; at most one per {c.Interval} (MinimumPruneInterval)";
                    return null;
                }

                return state with { LastPruneAt = c.Now };
            });
        return refusal;
    }

    public void Dispose()
    {
        foreach (Registration registration in All)
        {
            registration.Read(0, static (registration, _, _) => DisposeTimer(registration));
        }
    }

    /// <summary>
    /// After a wall-clock step: every staple now past its nextUpdate stops being served (and is reported), every other
    /// expiry timer is re-armed for the new clock, and after a step back a staple that a clock ahead had expired is
    /// served again while it is valid. Returns how many expired. O(n), run only when the clock stepped.
    /// </summary>
    public int Resynchronize()
    {
        int expired = 0;
        foreach (Registration registration in All)
        {
            expired += registration.State.Staple is null ? 0 : Expire(registration) ? 1 : 0;
        }

        return expired;
    }

    /// <summary>Arms (or re-arms) the expiry timer at the held staple's nextUpdate; runs under the registration's lock.</summary>
    private void ArmExpiry(Registration registration, RegistrationState state, DateTimeOffset now)
    {
        if (state.Removed || state.ExpiryReported || state.Staple is not { } staple)
        {
            DisposeTimer(registration);
            return;
        }

        // Expiry is a timer at nextUpdate, not a clock read per lookup: the handshake path stays a dictionary hit.
        TimeSpan due = staple.NextUpdate - now;
        due = due < TimeSpan.Zero ? TimeSpan.Zero : due;
        if (registration.ExpiryTimer is null)
        {
            registration.ExpiryTimer = _time.CreateTimer(static state => ((ExpiryState)state!).Fire(), new ExpiryState(this, registration), due, Timeout.InfiniteTimeSpan);
        }
        else
        {
            registration.ExpiryTimer.Change(due, Timeout.InfiniteTimeSpan);
        }
    }

    private static void DisposeTimer(Registration registration)
    {
        registration.ExpiryTimer?.Dispose();
        registration.ExpiryTimer = null;
    }

    /// <summary>
    /// The expiry timer fired (or the clock stepped): stops serving the staple if its nextUpdate has passed and reports it
    /// once; otherwise (an early timer, a clock step back) re-arms the timer for the staple held, and a staple stopped by
    /// a clock that was ahead is served again. Returns whether a served staple stopped being served.
    /// </summary>
    private bool Expire(Registration registration)
    {
        var context = (Store: this, Now: _time.GetUtcNow());
        bool wasServed = false;
        bool restored = false;
        RegistrationState? written = registration.Write(
            context,
            (state, c) =>
            {
                if (state.Staple is not { } staple || state.Removed)
                {
                    return null;
                }

                if (staple.IsValidAt(c.Now))
                {
                    // A step of the clock back: a staple stopped as expired by a clock that was ahead is valid again.
                    restored = state.ExpiryReported;
                    return restored ? state with { Served = c.Store.MayServe(staple) ? staple : null, ExpiryReported = false } : null;
                }

                if (state.ExpiryReported)
                {
                    return null;
                }

                wasServed = state.Served is not null;
                return state with { Served = null, ExpiryReported = true };
            },
            static (registration, state, c) => c.Store.ArmExpiry(registration, state, c.Now));
        if (written is null)
        {
            registration.Read(context, static (registration, state, c) => c.Store.ArmExpiry(registration, state, c.Now));
            return false;
        }

        if (!restored)
        {
            Expired?.Invoke(registration, written.Staple!);
        }

        return wasServed;
    }

    /// <summary>Timer state: the store and the registration whose staple expires.</summary>
    private sealed class ExpiryState(RegistrationStore store, Registration registration)
    {
        public void Fire() => store.Expire(registration);
    }
}
