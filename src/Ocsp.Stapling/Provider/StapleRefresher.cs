namespace Ocsp.Stapling.Internal;

/// <summary>
/// The refresh of a registered certificate, step by step: the shared cache (L2) first, then the responder
/// (<see cref="AnswerFetcher"/>), each answer validated before the store adopts it, then written back to L2 and reported
/// (<see cref="RefreshReporter"/>). Concurrent callers share one run (<see cref="SingleFlight{TKey, TResult}"/>). A run's
/// outcome and its next due time are written in one state change before it leaves the flight; the scheduler queues the
/// next run after, so a refresh that falls due while one is under way is never lost and no caller sees an outcome
/// without its due time.
/// </summary>
internal sealed class StapleRefresher(
    RegistrationStore store,
    SharedStapleCache shared,
    RefreshScheduler scheduler,
    AnswerFetcher answers,
    RefreshReporter report,
    OcspRefreshOptions refresh,
    TimeProvider time)
{
    private readonly SingleFlight<Registration, OcspRefreshResult> _flights = new(ReferenceEqualityComparer.Instance);

    /// <summary>
    /// Refreshes one registered certificate. Never throws. With <paramref name="servePersisted"/>, a valid shared-cache
    /// entry is returned at once even past its refresh point (the next run, scheduled at once, asks the responder): a
    /// restart during a responder outage still staples.
    /// </summary>
    public Task<OcspRefreshResult> RefreshAsync(Registration registration, bool servePersisted = false) =>
        _flights.Run(
            registration,
            (Refresher: this, ServePersisted: servePersisted),
            static (registration, c, _) => c.Refresher.RunAsync(registration, c.ServePersisted),
            static (registration, c, _) => c.Refresher.Scheduled(registration)).Result;

    /// <summary>Whether a refresh of <paramref name="registration"/> is under way (a caller joins it rather than being turned away by the back-off).</summary>
    public bool IsRefreshing(Registration registration) => _flights.Current(registration) is not null;

    /// <summary>What <paramref name="state"/> holds, with its last failure: the answer when nothing is asked (inside the failure back-off).</summary>
    public OcspRefreshResult ResultOf(RegistrationState state) => Result(state, OcspStapleSource.Memory, state.LastFailure);

    /// <summary>
    /// Loads the certificate's shared-cache entry when newer than what it holds, without asking the responder (start-up
    /// warm-up). With <paramref name="spread"/> its next refresh falls at a uniformly random point before its refresh
    /// point: a start-up list whose responses were fetched together is not refreshed together.
    /// </summary>
    public async Task LoadFromCacheAsync(Registration registration, CancellationToken cancellationToken, bool spread = false)
    {
        DateTimeOffset now = time.GetUtcNow();
        long began = time.GetTimestamp();
        if (await shared.ReadAsync(registration, now, cancellationToken).ConfigureAwait(false) is { } cached
            && store.Adopt(registration, cached, OcspStapleSource.SharedStore))
        {
            DateTimeOffset next = RefreshPolicy.NextRefresh(cached, now, refresh, Random.Shared);
            next = spread ? RefreshPolicy.Spread(next, now, Random.Shared) : next;
            scheduler.Schedule(registration, next);
            report.Updated(registration, cached, OcspStapleSource.SharedStore, RefreshReporter.SharedStoreName, Milliseconds(began), next);
        }
    }

    /// <summary>The run left the flight with its outcome and due time written: queue that due time.</summary>
    private void Scheduled(Registration registration) => scheduler.Schedule(registration, registration.State.NextRefresh);

    private async Task<OcspRefreshResult> RunAsync(Registration registration, bool servePersisted)
    {
        try
        {
            return await RefreshCoreAsync(registration, servePersisted).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // A refresh must never take the scheduler or a caller down.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            report.Error(ex);
            var failure = new OcspFailure(OcspFailureReason.InternalError, ex.Message, OcspValidationFailure.None, time.GetUtcNow(), null);
            return Fail(registration, failure, OcspStapleSource.Memory, durationMs: 0);
        }
    }

    private async Task<OcspRefreshResult> RefreshCoreAsync(Registration registration, bool servePersisted)
    {
        DateTimeOffset now = time.GetUtcNow();
        long began = time.GetTimestamp();

        // The shared cache first: after a restart, or when another node of the fleet already refreshed.
        if (await shared.ReadAsync(registration, now, CancellationToken.None).ConfigureAwait(false) is { } cached
            && store.Adopt(registration, cached, OcspStapleSource.SharedStore))
        {
            DateTimeOffset next = RefreshPolicy.NextRefresh(cached, now, refresh, Random.Shared);
            report.Updated(registration, cached, OcspStapleSource.SharedStore, RefreshReporter.SharedStoreName, Milliseconds(began), next);
            if (next > now || servePersisted)
            {
                return Result(RegistrationStore.RecordSuccess(registration, next), OcspStapleSource.SharedStore, failure: null);
            }
        }

        long started = time.GetTimestamp();
        FetchOutcome outcome = await answers.FetchAsync(registration).ConfigureAwait(false);
        now = time.GetUtcNow();
        if (outcome.NothingToAsk)
        {
            // No responder to ask (no OCSP URL, or disabled by override): not an outage. No schedule, no warnings
            // (registration logged it once); the certificate is served without a staple.
            OcspFailure nothing = outcome.ToFailure(now);
            RegistrationState state = RegistrationStore.RecordFailure(registration, nothing, static _ => DateTimeOffset.MaxValue, countsAsFailure: false);
            report.NothingToAsk(registration, nothing, state, now);
            return Result(state, OcspStapleSource.Memory, nothing);
        }

        if (outcome.Staple is not { } staple)
        {
            return Fail(registration, outcome.ToFailure(now), OcspStapleSource.Responder, Milliseconds(started));
        }

        if (!store.Adopt(registration, staple, OcspStapleSource.Responder))
        {
            // A valid answer, but not newer than what we hold (a responder serving from its own cache): ask again later.
            var notNewer = new OcspFailure(
                OcspFailureReason.NotNewer, $"The responder returned a response no newer than the held one (thisUpdate {staple.ThisUpdate:u}).", OcspValidationFailure.None, now, outcome.Responder);
            return Fail(registration, notNewer, OcspStapleSource.Responder, Milliseconds(started));
        }

        DateTimeOffset nextRefresh = RefreshPolicy.NextRefreshOrBackoff(staple, now, refresh, Random.Shared);
        RegistrationState succeeded = RegistrationStore.RecordSuccess(registration, nextRefresh, outcome.ResponderIndex);
        if (!succeeded.Removed)
        {
            // Not for a registration removed meanwhile: a forgotten certificate's entry must not come back.
            await shared.WriteAsync(registration, staple).ConfigureAwait(false);
        }

        report.Updated(registration, staple, OcspStapleSource.Responder, RefreshReporter.Name(outcome.Responder), Milliseconds(started), nextRefresh);
        return Result(succeeded, OcspStapleSource.Responder, failure: null);
    }

    /// <summary>
    /// Records a failure and its retry time in one state change, and reports it. The scheduler queues the retry when the
    /// run leaves its flight.
    /// </summary>
    private OcspRefreshResult Fail(Registration registration, OcspFailure failure, OcspStapleSource source, long durationMs)
    {
        OcspFailure? previous = registration.State.LastFailure; // runs are single flight: no other writer of failures now
        RegistrationState state = RegistrationStore.RecordFailure(registration, failure, failures => failure.At + RefreshPolicy.Backoff(failures, refresh, Random.Shared));
        report.Failed(registration, failure, previous, state, durationMs);
        return Result(state, source, failure);
    }

    private long Milliseconds(long started) => (long)time.GetElapsedTime(started).TotalMilliseconds;

    private OcspRefreshResult Result(RegistrationState state, OcspStapleSource source, OcspFailure? failure)
    {
        OcspStaple? held = state.ValidResponse(time.GetUtcNow());
        return new OcspRefreshResult(held, held is not null && store.MayServe(held), source, failure);
    }
}
