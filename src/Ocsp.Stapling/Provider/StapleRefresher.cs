using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace Ocsp.Stapling.Internal;

/// <summary>
/// One refresh, step by step: the shared cache (L2) first, then the responder (<see cref="OcspFetcher"/>), each answer
/// validated (<see cref="Check"/>) before the store adopts it, then written back to L2 and announced. Concurrent
/// callers share one run (single flight). A run's outcome and its next due time are written in one state change before
/// it leaves the flight; the scheduler queues the next run after, so a refresh that falls due while one is under way is
/// never lost and no caller sees an outcome without its due time.
/// </summary>
internal sealed class StapleRefresher
{
    private const string SharedStoreName = "(written by this or another node)";

    private readonly RegistrationStore _store;
    private readonly SharedStapleCache _shared;
    private readonly RefreshScheduler _scheduler;
    private readonly OcspFetcher _fetcher;
    private readonly OcspNotifications _events;
    private readonly OcspStaplingMetrics _metrics;
    private readonly OcspRefreshOptions _refresh;
    private readonly OcspValidationOptions _validation;
    private readonly OcspFetchOptions _fetch;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, Task<OcspRefreshResult>> _oneShots = new(StringComparer.Ordinal);

    public StapleRefresher(
        RegistrationStore store,
        SharedStapleCache shared,
        RefreshScheduler scheduler,
        OcspFetcher fetcher,
        OcspNotifications events,
        OcspStaplingMetrics metrics,
        OcspRefreshOptions refresh,
        OcspValidationOptions validation,
        OcspFetchOptions fetch,
        TimeProvider time,
        ILogger logger)
    {
        _store = store;
        _shared = shared;
        _scheduler = scheduler;
        _fetcher = fetcher;
        _events = events;
        _metrics = metrics;
        _refresh = refresh;
        _validation = validation;
        _fetch = fetch;
        _time = time;
        _logger = logger;
    }

    /// <summary>
    /// Refreshes one registered certificate. Never throws. With <paramref name="servePersisted"/>, a valid shared-cache
    /// entry is returned at once even past its refresh point (the next run, scheduled at once, asks the responder): a
    /// restart during a responder outage still staples.
    /// </summary>
    public Task<OcspRefreshResult> RefreshAsync(Registration registration, bool servePersisted = false)
    {
        var owner = new TaskCompletionSource<OcspRefreshResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<OcspRefreshResult> task = registration.JoinOrStart(owner.Task);
        if (task == owner.Task)
        {
            _ = RunAsync(registration, servePersisted, owner);
        }

        return task;
    }

    /// <summary>What <paramref name="state"/> holds, with its last failure: the answer when nothing is asked (inside the failure back-off).</summary>
    public OcspRefreshResult Current(RegistrationState state) => Result(state, OcspStapleSource.Memory, state.LastFailure);

    /// <summary>
    /// Loads the certificate's shared-cache entry when newer than what it holds, without asking the responder (start-up
    /// warm-up). With <paramref name="spread"/> its next refresh falls at a uniformly random point before its refresh
    /// point: a start-up list whose responses were fetched together is not refreshed together.
    /// </summary>
    public async Task LoadFromCacheAsync(Registration registration, CancellationToken cancellationToken, bool spread = false)
    {
        DateTimeOffset now = _time.GetUtcNow();
        long began = _time.GetTimestamp();
        if (await _shared.ReadAsync(registration, now, cancellationToken).ConfigureAwait(false) is { } cached
            && _store.Adopt(registration, cached, OcspStapleSource.SharedStore))
        {
            DateTimeOffset next = RefreshPolicy.NextRefresh(cached, now, _refresh, Random.Shared);
            next = spread ? RefreshPolicy.Spread(next, now, Random.Shared) : next;
            _scheduler.Schedule(registration, next);
            Announce(registration, cached, OcspStapleSource.SharedStore, SharedStoreName, Milliseconds(began), next);
        }
    }

    /// <summary>
    /// A staple for a certificate that is not registered: the shared cache's, else the responder's (written back to the
    /// shared cache). Nothing is kept in memory and nothing is scheduled. Concurrent calls for one certificate share a run.
    /// </summary>
    public Task<OcspRefreshResult> FetchOnceAsync(X509Certificate2 certificate, X509Certificate2 issuer)
    {
        var transient = Registration.Create(certificate, issuer, _fetch);
        string key = transient.CacheId.CacheKey;
        var owner = new TaskCompletionSource<OcspRefreshResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<OcspRefreshResult> task = _oneShots.GetOrAdd(key, owner.Task);
        if (task == owner.Task)
        {
            _ = RunOnceAsync(transient, owner);
        }

        return task;
    }

    /// <summary>
    /// The shared store's response for a certificate known only by its CertID (<paramref name="target"/>, not registered):
    /// valid now and good or revoked, re-validated as every read is. Nothing is kept.
    /// </summary>
    public Task<OcspStaple?> ReadSharedAsync(Registration target) => _shared.ReadAsync(target, _time.GetUtcNow(), CancellationToken.None);

    /// <summary>Writes <paramref name="staple"/> to the shared store for <paramref name="registration"/> (best effort, bounded).</summary>
    public Task WriteSharedAsync(Registration registration, OcspStaple staple) => _shared.WriteAsync(registration, staple);

    /// <summary>
    /// One validated answer of the responder for a certificate known only by its CertID (<paramref name="target"/>, not
    /// registered), whatever its status: an <c>unknown</c> answer is valid, and a proxy relays it (its
    /// <see cref="OcspRefreshResult.Failure"/> says <see cref="OcspFailureReason.CertificateUnknown"/>). Nothing is kept,
    /// written or scheduled: the caller registers what it keeps. Never throws.
    /// </summary>
    public async Task<OcspRefreshResult> AskOnceAsync(Registration target)
    {
        long started = _time.GetTimestamp();
        FetchOutcome outcome;
        try
        {
            outcome = await _fetcher.FetchAsync(
                target, (body, request, responder) => Check(target, body, request, responder, acceptUnknown: true), CancellationToken.None).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // See RunAsync.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.SchedulerError(_logger, ex);
            return new OcspRefreshResult(
                null, false, OcspStapleSource.Responder, new OcspFailure(OcspFailureReason.InternalError, ex.Message, OcspValidationFailure.None, _time.GetUtcNow(), null));
        }

        _metrics.FetchDuration.Record(_time.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("outcome", outcome.IsSuccess ? "success" : "failure"));
        DateTimeOffset now = _time.GetUtcNow();
        if (outcome.Staple is not { } staple)
        {
            CountFetch(outcome.Reason, outcome.ValidationFailure);
            return new OcspRefreshResult(null, false, OcspStapleSource.Responder, outcome.ToFailure(now));
        }

        bool unknown = staple.Status == OcspCertificateStatus.Unknown;
        CountFetch(unknown ? OcspFailureReason.CertificateUnknown : null, OcspValidationFailure.None);
        OcspFailure? failure = unknown
            ? new OcspFailure(OcspFailureReason.CertificateUnknown, $"{Name(outcome.Responder)} does not know this certificate (status unknown).", OcspValidationFailure.None, now, outcome.Responder)
            : null;
        return new OcspRefreshResult(staple, _store.IsServable(staple), OcspStapleSource.Responder, failure) { AnsweredBy = outcome.Responder };
    }

    private async Task RunAsync(Registration registration, bool servePersisted, TaskCompletionSource<OcspRefreshResult> completion)
    {
        OcspRefreshResult result;
        try
        {
            result = await RefreshCoreAsync(registration, servePersisted).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // A refresh must never take the scheduler or a caller down.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.SchedulerError(_logger, ex);
            var failure = new OcspFailure(OcspFailureReason.InternalError, ex.Message, OcspValidationFailure.None, _time.GetUtcNow(), null);
            result = Fail(registration, failure, OcspStapleSource.Memory, durationMs: 0);
        }

        // The outcome and its due time are in the state already; leave the flight, then queue the next run.
        registration.EndRefresh(completion.Task);
        _scheduler.Schedule(registration, registration.State.NextRefresh);
        completion.TrySetResult(result);
    }

    private async Task<OcspRefreshResult> RefreshCoreAsync(Registration registration, bool servePersisted)
    {
        DateTimeOffset now = _time.GetUtcNow();
        long began = _time.GetTimestamp();

        // The shared cache first: after a restart, or when another node of the fleet already refreshed.
        if (await _shared.ReadAsync(registration, now, CancellationToken.None).ConfigureAwait(false) is { } cached
            && _store.Adopt(registration, cached, OcspStapleSource.SharedStore))
        {
            Log.StapleFromCache(_logger, registration.DisplayName, cached.ThisUpdate);
            DateTimeOffset next = RefreshPolicy.NextRefresh(cached, now, _refresh, Random.Shared);
            Announce(registration, cached, OcspStapleSource.SharedStore, SharedStoreName, Milliseconds(began), next);
            if (next > now || servePersisted)
            {
                return Result(RegistrationStore.RecordSuccess(registration, next), OcspStapleSource.SharedStore, failure: null);
            }
        }

        long started = _time.GetTimestamp();
        FetchOutcome outcome = await _fetcher.FetchAsync(
            registration, (body, request, responder) => Check(registration, body, request, responder), CancellationToken.None).ConfigureAwait(false);
        _metrics.FetchDuration.Record(_time.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("outcome", outcome.IsSuccess ? "success" : "failure"));
        now = _time.GetUtcNow();

        if (outcome.NothingToAsk)
        {
            // No responder to ask (no OCSP URL, or disabled by override): not an outage. No schedule, no warnings
            // (registration logged it once); the certificate is served without a staple.
            OcspFailure nothing = outcome.ToFailure(now);
            RegistrationState state = RegistrationStore.RecordFailure(registration, nothing, static _ => DateTimeOffset.MaxValue, countsAsFailure: false);
            if (registration.Certificate is { } leaf)
            {
                _events.Failed(new OcspStapleFailedEventArgs(leaf, nothing, _store.Servable(state, now)));
            }

            return Result(state, OcspStapleSource.Memory, nothing);
        }

        if (!outcome.IsSuccess)
        {
            CountFetch(outcome.Reason, outcome.ValidationFailure);
            return Fail(registration, outcome.ToFailure(now), OcspStapleSource.Responder, Milliseconds(started));
        }

        OcspStaple staple = outcome.Staple!;
        CountFetch(reason: null, OcspValidationFailure.None);
        if (!_store.Adopt(registration, staple, OcspStapleSource.Responder))
        {
            // A valid answer, but not newer than what we hold (a responder serving from its own cache): ask again later.
            var notNewer = new OcspFailure(
                OcspFailureReason.NotNewer, $"The responder returned a response no newer than the held one (thisUpdate {staple.ThisUpdate:u}).", OcspValidationFailure.None, now, outcome.Responder);
            return Fail(registration, notNewer, OcspStapleSource.Responder, Milliseconds(started));
        }

        DateTimeOffset nextRefresh = RefreshPolicy.NextRefresh(staple, now, _refresh, Random.Shared);
        nextRefresh = nextRefresh > now ? nextRefresh : now + RefreshPolicy.Backoff(1, _refresh, Random.Shared);
        RegistrationState succeeded = RegistrationStore.RecordSuccess(registration, nextRefresh, outcome.ResponderIndex);
        if (!succeeded.Removed)
        {
            // Not for a registration removed meanwhile: a forgotten certificate's entry must not come back.
            await _shared.WriteAsync(registration, staple).ConfigureAwait(false);
        }

        Announce(registration, staple, OcspStapleSource.Responder, Name(outcome.Responder), Milliseconds(started), nextRefresh);
        return Result(succeeded, OcspStapleSource.Responder, failure: null);
    }

    private async Task RunOnceAsync(Registration transient, TaskCompletionSource<OcspRefreshResult> completion)
    {
        OcspRefreshResult result;
        try
        {
            DateTimeOffset now = _time.GetUtcNow();
            long started = _time.GetTimestamp();
            if (await _shared.ReadAsync(transient, now, CancellationToken.None).ConfigureAwait(false) is { } cached)
            {
                result = new OcspRefreshResult(cached, _store.IsServable(cached), OcspStapleSource.SharedStore, null);
            }
            else
            {
                FetchOutcome outcome = await _fetcher.FetchAsync(
                    transient, (body, request, responder) => Check(transient, body, request, responder), CancellationToken.None).ConfigureAwait(false);
                if (outcome.Staple is { } staple)
                {
                    await _shared.WriteAsync(transient, staple).ConfigureAwait(false);
                    result = new OcspRefreshResult(staple, _store.IsServable(staple), OcspStapleSource.Responder, null);
                }
                else
                {
                    OcspFailure failure = outcome.ToFailure(_time.GetUtcNow());
                    Log.FetchFailed(_logger, transient.DisplayName, failure.Code, 1, Name(outcome.Responder), Milliseconds(started), outcome.Message.TrimEnd('.'), now, "(none)");
                    result = new OcspRefreshResult(null, false, OcspStapleSource.Responder, failure);
                }
            }
        }
#pragma warning disable CA1031 // See RunAsync.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.SchedulerError(_logger, ex);
            result = new OcspRefreshResult(
                null, false, OcspStapleSource.Responder, new OcspFailure(OcspFailureReason.InternalError, ex.Message, OcspValidationFailure.None, _time.GetUtcNow(), null));
        }

        _oneShots.TryRemove(new KeyValuePair<string, Task<OcspRefreshResult>>(transient.CacheId.CacheKey, completion.Task));
        completion.TrySetResult(result);
    }

    /// <summary>The validation step: the responder's answer must be a valid response for this certificate, for this request, now.</summary>
    private FetchOutcome Check(Registration registration, byte[] body, OcspRequest request, Uri responder, bool acceptUnknown = false)
    {
        OcspValidationResult result = OcspResponseValidator.Validate(body, registration.Subject, _time.GetUtcNow(), _validation, request.Nonce);
        if (!result.IsValid)
        {
            return FetchOutcome.Rejected(result);
        }

        return result.Staple.Status == OcspCertificateStatus.Unknown && !acceptUnknown
            ? FetchOutcome.Fail(OcspFailureReason.CertificateUnknown, $"{responder} does not know this certificate (status unknown).", FailureScope.Request)
            : FetchOutcome.Success(result.Staple);
    }

    /// <summary>
    /// Records a failure and its retry time in one state change, logs it, raises <see cref="OcspNotifications.StapleFailed"/>.
    /// The scheduler queues the retry when the run leaves its flight.
    /// </summary>
    private OcspRefreshResult Fail(Registration registration, OcspFailure failure, OcspStapleSource source, long durationMs)
    {
        OcspFailure? previous = registration.State.LastFailure; // runs are single flight: no other writer of failures now
        RegistrationState state = RegistrationStore.RecordFailure(
            registration, failure, failures => failure.At + RefreshPolicy.Backoff(failures, _refresh, Random.Shared));
        OcspStaple? held = state.Held(failure.At);
        string validUntil = held is not null ? held.NextUpdate.ToString("u", CultureInfo.InvariantCulture) : "(none)";

        // A proxy's certificates (by CertID) may be thousands: a failure is a Warning once per certificate and reason,
        // its repeats Debug. A leaf certificate's every failure is a Warning: a server has few, and each matters.
        if (registration.IsCertificateId && previous is not null && previous.Code == failure.Code)
        {
            Log.FetchFailedAgain(
                _logger, registration.DisplayName, failure.Code, state.ConsecutiveFailures, Name(failure.Responder), durationMs, failure.Message.TrimEnd('.'), state.NextRefresh, validUntil);
        }
        else
        {
            Log.FetchFailed(
                _logger, registration.DisplayName, failure.Code, state.ConsecutiveFailures, Name(failure.Responder), durationMs, failure.Message.TrimEnd('.'), state.NextRefresh, validUntil);
        }

        if (registration.Certificate is { } leaf)
        {
            _events.Failed(new OcspStapleFailedEventArgs(leaf, failure, held));
        }

        return Result(state, source, failure);
    }

    /// <summary>Counts a fetch with bounded tags: outcome, and for a failure its reason (and the validation check a rejected response failed).</summary>
    private void CountFetch(OcspFailureReason? reason, OcspValidationFailure validationFailure)
    {
        if (reason is not { } failed)
        {
            _metrics.Fetches.Add(1, new KeyValuePair<string, object?>("outcome", "success"));
        }
        else if (validationFailure == OcspValidationFailure.None)
        {
            _metrics.Fetches.Add(1, new("outcome", "failure"), new("reason", failed.ToString()));
        }
        else
        {
            _metrics.Fetches.Add(1, new("outcome", "failure"), new("reason", failed.ToString()), new("validation_failure", validationFailure.ToString()));
        }
    }

    /// <summary>Logs the refresh's one line (certificate, result, responder, duration), counts a revocation, raises the events.</summary>
    private void Announce(Registration registration, OcspStaple staple, OcspStapleSource source, string responder, long durationMs, DateTimeOffset nextRefresh)
    {
        // A proxy's certificates (by CertID) may be thousands, each refreshed every few days: routine updates at Debug.
        if (registration.IsCertificateId)
        {
            Log.CertificateIdUpdated(_logger, registration.DisplayName, staple.Status, source, responder, durationMs, staple.ThisUpdate, staple.NextUpdate, nextRefresh);
        }
        else
        {
            Log.StapleUpdated(_logger, registration.DisplayName, staple.Status, source, responder, durationMs, staple.ThisUpdate, staple.NextUpdate, nextRefresh);
        }

        if (staple.Status == OcspCertificateStatus.Revoked)
        {
            _metrics.Revocations.Add(1);
            Log.CertificateRevoked(_logger, registration.DisplayName, staple.RevocationTime, staple.RevocationReason?.ToString() ?? "unspecified");
        }

        // Registrations by CertID (a proxy's) raise no events: the registry's events are about leaf certificates.
        if (registration.Certificate is not { } leaf)
        {
            return;
        }

        if (staple.Status == OcspCertificateStatus.Revoked)
        {
            _events.Revoked(new OcspCertificateRevokedEventArgs(leaf, staple));
        }

        _events.Updated(new OcspStapleUpdatedEventArgs(leaf, staple, source, isServed: ReferenceEquals(registration.State.Servable, staple)));
    }

    private static string Name(Uri? responder) => responder?.AbsoluteUri ?? "(no responder)";

    private long Milliseconds(long started) => (long)_time.GetElapsedTime(started).TotalMilliseconds;

    private OcspRefreshResult Result(RegistrationState state, OcspStapleSource source, OcspFailure? failure)
    {
        OcspStaple? held = state.Held(_time.GetUtcNow());
        return new OcspRefreshResult(held, held is not null && _store.IsServable(held), source, failure);
    }
}
