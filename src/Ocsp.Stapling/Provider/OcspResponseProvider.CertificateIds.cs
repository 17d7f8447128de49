using System.Security.Cryptography.X509Certificates;

namespace Ocsp.Stapling.Internal;

/// <summary>
/// Certificates known only by their CertID (a caching proxy's): registered, refreshed, pruned and looked up as leaf
/// certificates are, plus what a proxy needs to keep only real certificates (<see cref="AskOnceAsync"/>,
/// <see cref="RegisterAnsweredAsync"/>); forgetting one is unregistering it (its shared-store entry expires at its nextUpdate).
/// </summary>
internal sealed partial class OcspResponseProvider
{
    /// <summary>
    /// Registers a certificate known only by its CertID: validated as a leaf's responses are, stored under the same key as a
    /// leaf registration of it (SHA-1 CertIDs), refreshed by the scheduler. Idempotent. No registry events are raised for it.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="certificateId"/> does not name <paramref name="issuer"/>, or <paramref name="responder"/> is not an absolute http(s) URL.</exception>
    internal bool Register(OcspCertificateId certificateId, X509Certificate2 issuer, Uri responder)
    {
        ArgumentNullException.ThrowIfNull(responder);
        Registration registration = Target(certificateId, issuer, [responder]);
        if (_store.Find(certificateId) is not null || !_store.TryAdd(registration))
        {
            return false;
        }

        Log.CertificateIdRegistered(_logger, registration.DisplayName, responder.ToString(), "");
        _scheduler.Schedule(registration, _time.GetUtcNow());
        return true;
    }

    /// <summary>Stops keeping a CertID registered (the shared store keeps its entry until its nextUpdate).</summary>
    internal bool Unregister(OcspCertificateId certificateId)
    {
        ArgumentNullException.ThrowIfNull(certificateId);
        if (_store.Remove(certificateId, out _) is not { } registration)
        {
            return false;
        }

        Log.CertificateIdUnregistered(_logger, registration.DisplayName, "");
        return true;
    }

    /// <summary>Refreshes a registered CertID as a leaf is refreshed.</summary>
    /// <exception cref="InvalidOperationException"><paramref name="certificateId"/> is not registered.</exception>
    internal Task<OcspRefreshResult> RefreshAsync(OcspCertificateId certificateId, CancellationToken cancellationToken = default) =>
        RefreshAsync(FindRegistered(certificateId), servePersisted: true, cancellationToken);

    /// <summary>Asks for a refetch of a registered CertID's response now, as a leaf's prune does (same rate limit and back-off).</summary>
    internal Task<bool> PruneAsync(OcspCertificateId certificateId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(certificateId);
        return _store.Find(certificateId) is { } registration ? PruneAsync(registration, cancellationToken) : Task.FromResult(false);
    }

    public override OcspCertificateState? GetState(OcspCertificateId certificateId)
    {
        ArgumentNullException.ThrowIfNull(certificateId);
        return _store.Find(certificateId) is { } registration ? OcspCertificateState.Of(registration) : null;
    }

    /// <summary>
    /// What the shared store holds for a CertID that is not registered (good or revoked, valid now, re-validated, fetched no
    /// earlier than <paramref name="notBefore"/>), else
    /// the responder's one answer, whatever its status (<c>unknown</c> comes back as the response with a
    /// <see cref="OcspFailureReason.CertificateUnknown"/> failure); <paramref name="mayAskResponder"/> is asked first, and
    /// when it says no the result is <see langword="null"/> (nobody asked). Nothing is registered, written or scheduled.
    /// <paramref name="responders"/> are tried in order (a caching front's backends), each through its host's circuit
    /// breaker; <see cref="OcspRefreshResult.AnsweredBy"/> names the one whose answer this is.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="certificateId"/> does not name <paramref name="issuer"/>, or a responder is not an absolute http(s) URL.</exception>
    internal async Task<OcspRefreshResult?> AskOnceAsync(
        OcspCertificateId certificateId, X509Certificate2 issuer, IReadOnlyList<Uri> responders, Func<bool> mayAskResponder, DateTimeOffset notBefore = default)
    {
        Registration target = Target(certificateId, issuer, responders);
        if (await _oneShots.ReadSharedAsync(target).ConfigureAwait(false) is { } stored && stored.FetchedAtBy(_time.GetUtcNow()) >= notBefore)
        {
            return new OcspRefreshResult(stored, _store.MayServe(stored), OcspStapleSource.SharedStore, null);
        }

        return mayAskResponder() ? await _oneShots.AskOnceAsync(target).ConfigureAwait(false) : null;
    }

    /// <summary>
    /// Registers a CertID with the valid good or revoked <paramref name="answer"/> it already has (from
    /// <see cref="AskOnceAsync"/>): served at once, written to the shared store when it came from the responder, refreshed
    /// from its refresh point on. <see langword="false"/> when the CertID already is registered (then nothing changes).
    /// </summary>
    /// <exception cref="ArgumentException">The answer is <c>unknown</c> or not valid now: only real certificates become registrations.</exception>
    internal async Task<bool> RegisterAnsweredAsync(OcspCertificateId certificateId, X509Certificate2 issuer, IReadOnlyList<Uri> responders, OcspRefreshResult answer)
    {
        DateTimeOffset now = _time.GetUtcNow();
        if (answer.Response is not { Status: OcspCertificateStatus.Good or OcspCertificateStatus.Revoked } staple || !staple.IsValidAt(now))
        {
            throw new ArgumentException("Only a valid good or revoked answer makes a registration.", nameof(answer));
        }

        Registration registration = Target(certificateId, issuer, responders);
        if (_store.Find(certificateId) is not null || !_store.TryAdd(registration))
        {
            return false;
        }

        _store.Adopt(registration, staple, answer.Source);
        DateTimeOffset next = RefreshPolicy.NextRefreshOrBackoff(staple, now, _refreshOptions, Random.Shared);
        RegistrationStore.RecordSuccess(registration, next);
        _scheduler.Schedule(registration, next);
        Log.CertificateIdRegistered(_logger, registration.DisplayName, string.Join(", ", responders), $": {staple.Status} from {answer.Source}, next refresh {next:u}");
        if (answer.Source == OcspStapleSource.Responder)
        {
            await _oneShots.WriteSharedAsync(registration, staple).ConfigureAwait(false);
        }

        return true;
    }

    private Registration FindRegistered(OcspCertificateId certificateId)
    {
        ArgumentNullException.ThrowIfNull(certificateId);
        return _store.Find(certificateId) ?? throw new InvalidOperationException($"{certificateId} is not registered for OCSP stapling.");
    }

    private static Registration Target(OcspCertificateId certificateId, X509Certificate2 issuer, IReadOnlyList<Uri> responders)
    {
        ArgumentNullException.ThrowIfNull(certificateId);
        ArgumentNullException.ThrowIfNull(issuer);
        ArgumentNullException.ThrowIfNull(responders);
        if (responders.Count == 0)
        {
            throw new ArgumentException("No responder to ask.", nameof(responders));
        }

        foreach (Uri responder in responders)
        {
            if (responder is null || !Responders.IsValid(responder))
            {
                throw new ArgumentException($"The responder '{responder}' is not an absolute http(s) URL.", nameof(responders));
            }
        }

        return Registration.Create(certificateId, issuer, responders);
    }
}
