using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace Ocsp.Stapling.Internal;

internal sealed partial class OcspResponseProvider
{
    /// <summary>
    /// Refreshes one certificate; concurrent callers share one run (single flight). Never throws.
    /// With <paramref name="servePersisted"/>, a valid shared-cache entry is returned at once even past its refresh point
    /// (the scheduler refreshes it in the background): a restart during a responder outage still staples.
    /// </summary>
    internal Task<OcspStaple?> RefreshAsync(Registration registration, bool servePersisted = false)
    {
        TaskCompletionSource<OcspStaple?>? owner = null;
        Task<OcspStaple?> task;
        lock (registration)
        {
            if (registration.InFlight is null)
            {
                owner = new TaskCompletionSource<OcspStaple?>(TaskCreationOptions.RunContinuationsAsynchronously);
                registration.InFlight = owner.Task;
            }

            task = registration.InFlight;
        }

        if (owner is not null)
        {
            _ = RunRefreshAsync(registration, servePersisted, owner);
        }

        return task;
    }

    /// <summary>Runs every refresh that is due, at most <see cref="OcspStaplingOptions.MaxParallelFetches"/> at once, and reports expired staples.</summary>
    internal async Task RunDueAsync(CancellationToken cancellationToken)
    {
        ReportExpired();
        DateTimeOffset now = _time.GetUtcNow();
        Registration[] due = Array.FindAll(Volatile.Read(ref _snapshot).All, r => r.NextRefresh <= now);
        if (due.Length > 0)
        {
            using var gate = new SemaphoreSlim(Math.Max(1, _options.MaxParallelFetches));
            await Task.WhenAll(due.Select(async registration =>
            {
                await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    await RefreshAsync(registration).ConfigureAwait(false);
                }
                finally
                {
                    gate.Release();
                }
            })).ConfigureAwait(false);
        }

        ReportExpired();
    }

    /// <summary>Waits until the next refresh or expiry is due, or a certificate is registered.</summary>
    internal async Task WaitForWorkAsync(CancellationToken cancellationToken)
    {
        Task wake;
        lock (_gate)
        {
            if (_wake.Task.IsCompleted)
            {
                _wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                return;
            }

            wake = _wake.Task;
        }

        DateTimeOffset now = _time.GetUtcNow();
        DateTimeOffset next = now.AddDays(1);
        foreach (Registration registration in Volatile.Read(ref _snapshot).All)
        {
            if (registration.NextRefresh < next)
            {
                next = registration.NextRefresh;
            }

            if (registration.Staple is { } staple && !registration.ExpiryReported && staple.NextUpdate < next)
            {
                next = staple.NextUpdate;
            }
        }

        if (next <= now)
        {
            return;
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task delay = Task.Delay(next - now, _time, stop.Token);
        await Task.WhenAny(delay, wake).ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
    }

    /// <summary>Loads every registered certificate without a staple from the shared cache (start-up: staple from the first handshake).</summary>
    internal async Task WarmUpAsync(CancellationToken cancellationToken)
    {
        Registration[] empty = Array.FindAll(Volatile.Read(ref _snapshot).All, r => r.Staple is null);
        await Task.WhenAll(empty.Select(r => LoadFromCacheAsync(r, cancellationToken))).ConfigureAwait(false);
    }

    public async Task<OcspStaple?> WarmUpAsync(X509Certificate2 certificate, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        Registration registration = Find(certificate)
            ?? throw new InvalidOperationException($"Certificate {certificate.GetDisplayName()} is not registered for OCSP stapling.");
        if (registration.Staple is null)
        {
            await LoadFromCacheAsync(registration, cancellationToken).ConfigureAwait(false);
        }

        return TryGetCachedStaple(certificate, out OcspStaple? staple) ? staple : null;
    }

    private async Task LoadFromCacheAsync(Registration registration, CancellationToken cancellationToken)
    {
        DateTimeOffset now = _time.GetUtcNow();
        if (await ReadCacheAsync(registration, now, cancellationToken).ConfigureAwait(false) is { } cached && Adopt(registration, cached, now))
        {
            registration.NextRefresh = RefreshPolicy.NextRefresh(cached, now, _options, _random);
            AnnounceUpdate(registration, cached, "cache");
        }
    }

    private async Task RunRefreshAsync(Registration registration, bool servePersisted, TaskCompletionSource<OcspStaple?> completion)
    {
        OcspStaple? result = null;
        try
        {
            result = await RefreshCoreAsync(registration, servePersisted).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // A refresh must never take the scheduler or a caller down.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.SchedulerError(_logger, ex);
            ScheduleBackoff(registration);
            OcspStaple? held = registration.Staple;
            result = held is not null && IsServable(held) && held.IsValidAt(_time.GetUtcNow()) ? held : null;
        }
        finally
        {
            lock (registration)
            {
                registration.InFlight = null;
            }

            completion.TrySetResult(result);
        }
    }

    private async Task<OcspStaple?> RefreshCoreAsync(Registration registration, bool servePersisted)
    {
        DateTimeOffset now = _time.GetUtcNow();

        // The shared cache first: after a restart, or when another node of the fleet already refreshed.
        if (await ReadCacheAsync(registration, now, CancellationToken.None).ConfigureAwait(false) is { } cached && Adopt(registration, cached, now))
        {
            Log.StapleFromCache(_logger, registration.DisplayName, cached.ThisUpdate);
            DateTimeOffset next = RefreshPolicy.NextRefresh(cached, now, _options, _random);
            bool serveNow = next > now || servePersisted;
            if (serveNow)
            {
                registration.ConsecutiveFailures = 0;
                registration.NextRefresh = next;
            }

            AnnounceUpdate(registration, cached, "cache");
            if (serveNow)
            {
                if (next <= now)
                {
                    WakeScheduler();
                }

                return Servable(registration, now);
            }
        }

        long started = _time.GetTimestamp();
        FetchOutcome outcome = await _fetcher.FetchAsync(registration, CancellationToken.None).ConfigureAwait(false);
        _metrics.FetchDuration.Record(_time.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("outcome", outcome.IsSuccess ? "success" : "failure"));
        now = _time.GetUtcNow();

        if (!outcome.IsSuccess && outcome.NothingToAsk)
        {
            // No responder to ask (no OCSP URL, or disabled by override): not an outage. No schedule, no warnings
            // (Register logged it once); the certificate is served without a staple.
            registration.NextRefresh = DateTimeOffset.MaxValue;
            registration.LastFailureReason = outcome.Reason;
            registration.LastFailureMessage = outcome.Message;
            registration.LastFailureAt = now;
            Raise(StapleFailed, new OcspStapleFailedEventArgs(registration.Certificate, outcome.Reason, outcome.Message, OcspValidationFailure.None, Servable(registration, now)));
            return Servable(registration, now);
        }

        if (!outcome.IsSuccess)
        {
            _metrics.Fetches.Add(1, new("outcome", "failure"), new("reason", outcome.Reason));
            Fail(registration, outcome.Reason, outcome.Message, outcome.ValidationFailure, now);
            return Servable(registration, now);
        }

        OcspStaple staple = outcome.Staple!;
        _metrics.Fetches.Add(1, new("outcome", "success"), new("reason", "Success"));
        if (!Adopt(registration, staple, now))
        {
            // A valid answer, but not newer than what we hold (a responder serving from its own cache): ask again later.
            Fail(registration, "NotNewer", $"The responder returned a response no newer than the held one (thisUpdate {staple.ThisUpdate:u}).", OcspValidationFailure.None, now);
            return Servable(registration, now);
        }

        registration.ConsecutiveFailures = 0;
        registration.LastFailureReason = null;
        registration.LastFailureMessage = null;
        DateTimeOffset nextRefresh = RefreshPolicy.NextRefresh(staple, now, _options, _random);
        registration.NextRefresh = nextRefresh > now ? nextRefresh : now + RefreshPolicy.Backoff(1, _options, _random);
        await WriteCacheAsync(registration, staple).ConfigureAwait(false);
        AnnounceUpdate(registration, staple, "responder");
        return Servable(registration, now);
    }

    /// <summary>Makes <paramref name="staple"/> current unless the held one is newer: never go back in time, never take an invalid one.</summary>
    internal bool Adopt(Registration registration, OcspStaple staple, DateTimeOffset now)
    {
        lock (registration)
        {
            OcspStaple? held = registration.Staple;
            if (held is not null && held.IsValidAt(now)
                && (staple.ThisUpdate < held.ThisUpdate || (staple.ThisUpdate == held.ThisUpdate && staple.ProducedAt <= held.ProducedAt)))
            {
                return false;
            }

            registration.Staple = staple;
            registration.ExpiryReported = false;
            if (registration.Removed || !IsServable(staple) || !staple.IsValidAt(now))
            {
                registration.Servable = null;
                return true;
            }

            // Expiry is a timer at nextUpdate, not a clock read per lookup: the handshake path stays a dictionary hit.
            registration.Servable = staple;
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

    /// <summary>The expiry timer fired: stop serving the staple if its nextUpdate has passed (re-arm if the timer was early), then let the scheduler report it.</summary>
    private void Expire(Registration registration)
    {
        lock (registration)
        {
            DateTimeOffset now = _time.GetUtcNow();
            if (registration.Servable is { } servable && !servable.IsValidAt(now))
            {
                registration.Servable = null;
            }
            else if (registration.Servable is { } early)
            {
                registration.ExpiryTimer?.Change(early.NextUpdate - now, Timeout.InfiniteTimeSpan);
                return;
            }
        }

        WakeScheduler();
    }

    private void AnnounceUpdate(Registration registration, OcspStaple staple, string source)
    {
        Log.StapleUpdated(_logger, registration.DisplayName, source, staple.Status, staple.ThisUpdate, staple.NextUpdate, registration.NextRefresh);
        if (staple.Status == OcspCertificateStatus.Revoked)
        {
            _metrics.Revocations.Add(1);
            Log.CertificateRevoked(_logger, registration.DisplayName, staple.RevocationTime, staple.RevocationReason?.ToString() ?? "unspecified");
            Raise(CertificateRevoked, new OcspCertificateRevokedEventArgs(registration.Certificate, staple));
        }

        Raise(StapleUpdated, new OcspStapleUpdatedEventArgs(registration.Certificate, staple, source, isServed: ReferenceEquals(registration.Servable, staple)));
    }

    private void Fail(Registration registration, string reason, string message, OcspValidationFailure validationFailure, DateTimeOffset now)
    {
        ScheduleBackoff(registration);
        registration.LastFailureReason = reason;
        registration.LastFailureMessage = message;
        registration.LastFailureAt = now;
        OcspStaple? held = registration.Staple;
        Log.FetchFailed(
            _logger, registration.DisplayName, reason, message.TrimEnd('.'), registration.ConsecutiveFailures, registration.NextRefresh,
            held is not null && held.IsValidAt(now) ? held.NextUpdate.ToString("u", System.Globalization.CultureInfo.InvariantCulture) : "(none)");
        Raise(StapleFailed, new OcspStapleFailedEventArgs(registration.Certificate, reason, message, validationFailure, held is not null && held.IsValidAt(now) ? held : null));
    }

    private void ScheduleBackoff(Registration registration)
    {
        registration.ConsecutiveFailures++;
        registration.NextRefresh = _time.GetUtcNow() + RefreshPolicy.Backoff(registration.ConsecutiveFailures, _options, _random);
    }

    private void WakeScheduler()
    {
        lock (_gate)
        {
            _wake.TrySetResult();
        }
    }

    private OcspStaple? Servable(Registration registration, DateTimeOffset now) =>
        registration.Staple is { } staple && IsServable(staple) && staple.IsValidAt(now) ? staple : null;

    private void ReportExpired()
    {
        DateTimeOffset now = _time.GetUtcNow();
        foreach (Registration registration in Volatile.Read(ref _snapshot).All)
        {
            OcspStaple? staple = registration.Staple;
            if (staple is null || staple.IsValidAt(now))
            {
                continue;
            }

            lock (registration)
            {
                if (registration.ExpiryReported || registration.Staple != staple)
                {
                    continue;
                }

                registration.ExpiryReported = true;
                if (registration.Servable == staple)
                {
                    registration.Servable = null;
                }
            }

            Log.StapleExpired(_logger, registration.DisplayName, staple.NextUpdate);
            Raise(StapleRemoved, new OcspStapleRemovedEventArgs(registration.Certificate, staple, OcspStapleRemovalReason.Expired));
        }
    }

    /// <summary>Timer state: the provider and the registration whose staple expires.</summary>
    private sealed class ExpiryState(OcspResponseProvider provider, Registration registration)
    {
        public void Fire() => provider.Expire(registration);
    }
}
