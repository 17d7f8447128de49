using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ocsp.Stapling.Internal;

/// <summary>
/// One refresh, step by step: the shared cache (L2) first, then the responder (<see cref="OcspFetcher"/>), each answer
/// validated (<see cref="Check"/>) before the store adopts it, then written back to L2 and announced. Concurrent
/// callers share one run (single flight). A run ends by scheduling the next one, after it has left the flight, so a
/// refresh that falls due while one is under way is never lost.
/// </summary>
internal sealed class StapleRefresher
{
    private readonly RegistrationStore _store;
    private readonly SharedStapleCache _shared;
    private readonly RefreshScheduler _scheduler;
    private readonly OcspFetcher _fetcher;
    private readonly OcspNotifications _events;
    private readonly OcspStaplingMetrics _metrics;
    private readonly OcspStaplingOptions _options;
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
        IOptions<OcspStaplingOptions> options,
        TimeProvider time,
        ILogger logger)
    {
        _store = store;
        _shared = shared;
        _scheduler = scheduler;
        _fetcher = fetcher;
        _events = events;
        _metrics = metrics;
        _options = options.Value;
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
        TaskCompletionSource<OcspRefreshResult>? owner = null;
        Task<OcspRefreshResult> task;
        lock (registration)
        {
            if (registration.InFlight is null)
            {
                owner = new TaskCompletionSource<OcspRefreshResult>(TaskCreationOptions.RunContinuationsAsynchronously);
                registration.InFlight = owner.Task;
            }

            task = registration.InFlight;
        }

        if (owner is not null)
        {
            _ = RunAsync(registration, servePersisted, owner);
        }

        return task;
    }

    /// <summary>What is held now, with the last failure: the answer when nothing is asked (inside the failure back-off).</summary>
    public OcspRefreshResult Current(Registration registration)
    {
        OcspStaple? held = RegistrationStore.Held(registration, _time.GetUtcNow());
        return new OcspRefreshResult(
            held, held is not null && _store.IsServable(held), "memory", registration.LastFailureReason, registration.LastFailureMessage, registration.LastValidationFailure);
    }

    /// <summary>
    /// Loads the certificate's shared-cache entry when newer than what it holds, without asking the responder (start-up
    /// warm-up). With <paramref name="spread"/> its next refresh falls at a uniformly random point before its refresh
    /// point: a start-up list whose responses were fetched together is not refreshed together.
    /// </summary>
    public async Task LoadFromCacheAsync(Registration registration, CancellationToken cancellationToken, bool spread = false)
    {
        DateTimeOffset now = _time.GetUtcNow();
        long began = _time.GetTimestamp();
        if (await _shared.ReadAsync(registration, now, cancellationToken).ConfigureAwait(false) is { } cached && _store.Adopt(registration, cached))
        {
            DateTimeOffset next = RefreshPolicy.NextRefresh(cached, now, _options, Random.Shared);
            next = spread ? RefreshPolicy.Spread(next, now, Random.Shared) : next;
            _scheduler.Schedule(registration, next);
            Announce(registration, cached, "cache", SharedStoreName, Milliseconds(began), next);
        }
    }

    /// <summary>
    /// A staple for a certificate that is not registered: the shared cache's, else the responder's (written back to the
    /// shared cache). Nothing is kept in memory and nothing is scheduled. Concurrent calls for one certificate share a run.
    /// </summary>
    public Task<OcspRefreshResult> FetchOnceAsync(X509Certificate2 certificate, X509Certificate2 issuer)
    {
        var transient = Registration.Create(certificate, issuer, _options.Fetch);
        string key = transient.CacheId.CacheKey;
        var owner = new TaskCompletionSource<OcspRefreshResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<OcspRefreshResult> task = _oneShots.GetOrAdd(key, owner.Task);
        if (task == owner.Task)
        {
            _ = RunOnceAsync(transient, owner);
        }

        return task;
    }

    private async Task RunAsync(Registration registration, bool servePersisted, TaskCompletionSource<OcspRefreshResult> completion)
    {
        OcspRefreshResult result;
        DateTimeOffset next;
        try
        {
            (result, next) = await RefreshCoreAsync(registration, servePersisted).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // A refresh must never take the scheduler or a caller down.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.SchedulerError(_logger, ex);
            int failures = _store.RecordFailure(registration, "Error", ex.Message, OcspValidationFailure.None);
            next = _time.GetUtcNow() + RefreshPolicy.Backoff(failures, _options, Random.Shared);
            result = Current(registration);
        }

        lock (registration)
        {
            registration.InFlight = null;
        }

        _scheduler.Schedule(registration, next);
        completion.TrySetResult(result);
    }

    private async Task<(OcspRefreshResult Result, DateTimeOffset Next)> RefreshCoreAsync(Registration registration, bool servePersisted)
    {
        DateTimeOffset now = _time.GetUtcNow();
        long began = _time.GetTimestamp();

        // The shared cache first: after a restart, or when another node of the fleet already refreshed.
        if (await _shared.ReadAsync(registration, now, CancellationToken.None).ConfigureAwait(false) is { } cached && _store.Adopt(registration, cached))
        {
            Log.StapleFromCache(_logger, registration.DisplayName, cached.ThisUpdate);
            DateTimeOffset next = RefreshPolicy.NextRefresh(cached, now, _options, Random.Shared);
            Announce(registration, cached, "cache", SharedStoreName, Milliseconds(began), next);
            if (next > now || servePersisted)
            {
                _store.RecordSuccess(registration);
                return (Result(registration, "cache"), next);
            }
        }

        long started = _time.GetTimestamp();
        FetchOutcome outcome = await _fetcher.FetchAsync(
            registration, (body, request, responder) => Check(registration, body, request, responder), CancellationToken.None).ConfigureAwait(false);
        _metrics.FetchDuration.Record(_time.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("outcome", outcome.IsSuccess ? "success" : "failure"));
        now = _time.GetUtcNow();

        if (!outcome.IsSuccess && outcome.NothingToAsk)
        {
            // No responder to ask (no OCSP URL, or disabled by override): not an outage. No schedule, no warnings
            // (registration logged it once); the certificate is served without a staple.
            _store.RecordFailure(registration, outcome.Reason, outcome.Message, OcspValidationFailure.None, countsAsFailure: false);
            if (registration.Certificate is { } leaf)
            {
                _events.Failed(new OcspStapleFailedEventArgs(leaf, outcome.Reason, outcome.Message, OcspValidationFailure.None, _store.Servable(registration, now)));
            }
            return (Result(registration, "memory", outcome), DateTimeOffset.MaxValue);
        }

        if (!outcome.IsSuccess)
        {
            _metrics.Fetches.Add(1, new("outcome", "failure"), new("reason", outcome.Reason));
            return (Result(registration, "responder", outcome), Fail(registration, outcome.Reason, outcome.Message, outcome.ValidationFailure, now, Name(outcome.Responder), Milliseconds(started)));
        }

        OcspStaple staple = outcome.Staple!;
        _metrics.Fetches.Add(1, new("outcome", "success"), new("reason", "Success"));
        if (!_store.Adopt(registration, staple))
        {
            // A valid answer, but not newer than what we hold (a responder serving from its own cache): ask again later.
            string message = $"The responder returned a response no newer than the held one (thisUpdate {staple.ThisUpdate:u}).";
            return (Result(registration, "responder", "NotNewer", message), Fail(registration, "NotNewer", message, OcspValidationFailure.None, now, Name(outcome.Responder), Milliseconds(started)));
        }

        _store.RecordSuccess(registration, outcome.ResponderIndex);
        DateTimeOffset nextRefresh = RefreshPolicy.NextRefresh(staple, now, _options, Random.Shared);
        nextRefresh = nextRefresh > now ? nextRefresh : now + RefreshPolicy.Backoff(1, _options, Random.Shared);
        await _shared.WriteAsync(registration, staple).ConfigureAwait(false);
        Announce(registration, staple, "responder", Name(outcome.Responder), Milliseconds(started), nextRefresh);
        return (Result(registration, "responder"), nextRefresh);
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
                result = new OcspRefreshResult(cached, _store.IsServable(cached), "cache", null, null, OcspValidationFailure.None);
            }
            else
            {
                FetchOutcome outcome = await _fetcher.FetchAsync(
                    transient, (body, request, responder) => Check(transient, body, request, responder), CancellationToken.None).ConfigureAwait(false);
                if (outcome.Staple is { } staple)
                {
                    await _shared.WriteAsync(transient, staple).ConfigureAwait(false);
                    result = new OcspRefreshResult(staple, _store.IsServable(staple), "responder", null, null, OcspValidationFailure.None);
                }
                else
                {
                    Log.FetchFailed(_logger, transient.DisplayName, outcome.Reason, 1, Name(outcome.Responder), Milliseconds(started), outcome.Message.TrimEnd('.'), now, "(none)");
                    result = new OcspRefreshResult(null, false, "responder", outcome.Reason, outcome.Message, outcome.ValidationFailure);
                }
            }
        }
#pragma warning disable CA1031 // See RunAsync.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.SchedulerError(_logger, ex);
            result = new OcspRefreshResult(null, false, "responder", "Error", ex.Message, OcspValidationFailure.None);
        }

        _oneShots.TryRemove(new KeyValuePair<string, Task<OcspRefreshResult>>(transient.CacheId.CacheKey, completion.Task));
        completion.TrySetResult(result);
    }

    /// <summary>The validation step: the responder's answer must be a valid response for this certificate, for this request, now.</summary>
    private FetchOutcome Check(Registration registration, byte[] body, OcspRequest request, Uri responder)
    {
        OcspValidationResult result = OcspResponseValidator.Validate(body, registration.Subject, _time.GetUtcNow(), _options.Validation, request.Nonce);
        if (!result.IsValid)
        {
            return FetchOutcome.Rejected(result);
        }

        return result.Staple.Status == OcspCertificateStatus.Unknown
            ? FetchOutcome.Fail("CertificateUnknown", $"{responder} does not know this certificate (status unknown).", retryable: false)
            : FetchOutcome.Success(result.Staple);
    }

    /// <summary>Records a failure, logs it, raises <see cref="OcspNotifications.StapleFailed"/>; returns when to try again.</summary>
    private DateTimeOffset Fail(
        Registration registration, string reason, string message, OcspValidationFailure validationFailure, DateTimeOffset now, string responder, long durationMs)
    {
        int failures = _store.RecordFailure(registration, reason, message, validationFailure);
        DateTimeOffset retryAt = now + RefreshPolicy.Backoff(failures, _options, Random.Shared);
        OcspStaple? held = RegistrationStore.Held(registration, now);
        Log.FetchFailed(
            _logger, registration.DisplayName, reason, failures, responder, durationMs, message.TrimEnd('.'), retryAt,
            held is not null ? held.NextUpdate.ToString("u", System.Globalization.CultureInfo.InvariantCulture) : "(none)");
        if (registration.Certificate is { } leaf)
        {
            _events.Failed(new OcspStapleFailedEventArgs(leaf, reason, message, validationFailure, held));
        }

        return retryAt;
    }

    /// <summary>Logs the refresh's one line (certificate, result, responder, duration), counts a revocation, raises the events.</summary>
    private void Announce(Registration registration, OcspStaple staple, string source, string responder, long durationMs, DateTimeOffset nextRefresh)
    {
        registration.StapleSource = source;
        Log.StapleUpdated(_logger, registration.DisplayName, staple.Status, source, responder, durationMs, staple.ThisUpdate, staple.NextUpdate, nextRefresh);
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

        _events.Updated(new OcspStapleUpdatedEventArgs(leaf, staple, source, isServed: ReferenceEquals(registration.Servable, staple)));
    }

    private const string SharedStoreName = "(the shared store)";

    private static string Name(Uri? responder) => responder?.AbsoluteUri ?? "(no responder)";

    private long Milliseconds(long started) => (long)_time.GetElapsedTime(started).TotalMilliseconds;

    private OcspRefreshResult Result(Registration registration, string source, string? reason = null, string? message = null, OcspValidationFailure validationFailure = OcspValidationFailure.None)
    {
        OcspStaple? held = RegistrationStore.Held(registration, _time.GetUtcNow());
        return new OcspRefreshResult(held, held is not null && _store.IsServable(held), source, reason, message, validationFailure);
    }

    private OcspRefreshResult Result(Registration registration, string source, FetchOutcome failure) =>
        Result(registration, source, failure.Reason, failure.Message, failure.ValidationFailure);
}
