using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace Ocsp.Stapling.Internal;

/// <summary>
/// <see cref="IOcspClientCertificateValidator"/> over the provider. A client certificate becomes a registration of the
/// provider (by CertID, so refreshed before expiry and shared through the store) once its responder or the store gave a
/// valid good or revoked answer; an unknown answer is kept briefly, never refreshed; a failure keeps nothing but its time,
/// and checks within <see cref="OcspClientCertificateOptions.FailureRetryTime"/> are decided without asking again.
/// Concurrent checks of one certificate share one request. Entries are found by the certificate's bytes (no hashing on a
/// hit), evicted least recently checked first at the cap and forgotten after the idle time by a sweep on the clock.
/// </summary>
internal sealed class ClientCertificateValidator : IOcspClientCertificateValidator, IDisposable
{
    private readonly OcspResponseProvider _provider;
    private readonly OcspFetchOptions _fetch;
    private readonly OcspClientCertificateOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Counter<long> _checks;
    private readonly ConcurrentDictionary<ReadOnlyMemory<byte>, Entry> _entries = new(RawDataComparer.Instance);
    private readonly ConcurrentDictionary<OcspCertificateId, byte> _ids = new();
    private readonly Lock _capLock = new();
    private readonly ITimer _sweep;
    private Task _lastSweep = Task.CompletedTask;

    public ClientCertificateValidator(
        OcspResponseProvider provider, OcspFetchOptions fetch, OcspClientCertificateOptions options, OcspStaplingMetrics metrics, TimeProvider time, ILogger logger)
    {
        _provider = provider;
        _fetch = fetch;
        _options = options;
        _time = time;
        _logger = logger;
        _checks = metrics.ClientCertificateChecks;

        // Forgotten at most an eighth of IdleTime late (checked at least every minute, at most every hour).
        TimeSpan period = TimeSpan.FromTicks(Math.Clamp(options.IdleTime.Ticks / 8, TimeSpan.TicksPerMinute, TimeSpan.TicksPerHour));
        _sweep = time.CreateTimer(static state => ((ClientCertificateValidator)state!).StartSweep(), this, period, period);
    }

    /// <summary>Gets the number of client certificates kept.</summary>
    public int Count => _entries.Count;

    /// <summary>Gets the last sweep the timer started (tests wait for it).</summary>
    internal Task LastSweep => Volatile.Read(ref _lastSweep);

    /// <summary>Completes when the request under way for <paramref name="certificate"/> (if any) has its answer (tests wait for the background request of a TLS-level check).</summary>
    internal Task WhenAnsweredAsync(X509Certificate2 certificate)
    {
        if (!_entries.TryGetValue(certificate.RawDataMemory, out Entry? entry))
        {
            return Task.CompletedTask;
        }

        lock (entry)
        {
            return entry.Flight?.Result ?? Task.CompletedTask;
        }
    }

    /// <summary>Whether <paramref name="certificateId"/> is a client certificate's registration (the status page lists those apart).</summary>
    public bool IsClientCertificate(OcspCertificateId certificateId) => _ids.ContainsKey(certificateId);

    public async ValueTask<OcspClientCertificateDecision> CheckAsync(
        X509Certificate2 certificate, X509Certificate2 issuer, OcspClientCertificatePolicy policy, CancellationToken cancellationToken = default)
    {
        if (Begin(certificate, issuer, policy, out Entry entry, out OcspClientCertificateDecision? decided) is not { } flight)
        {
            return decided!;
        }

        try
        {
            Answer answer = await flight.Result.WaitAsync(policy.FirstAnswerTimeout, _time, cancellationToken).ConfigureAwait(false);
            return Decide(entry, policy, answer);
        }
        catch (TimeoutException)
        {
            return Decide(entry, policy, Answer.None(OcspClientCertificateReason.Timeout, $"no answer within {policy.FirstAnswerTimeout.TotalSeconds:0.###} s (still asking)"));
        }
    }

    public OcspClientCertificateDecision Check(X509Certificate2 certificate, X509Certificate2 issuer, OcspClientCertificatePolicy policy)
    {
        if (Begin(certificate, issuer, policy, out Entry entry, out OcspClientCertificateDecision? decided) is not { } flight)
        {
            return decided!;
        }

        // The shared store only: wait until the flight has an answer or has gone past the store, up to StoreWaitTime.
        if (!flight.Result.IsCompleted && policy.StoreWaitTime > TimeSpan.Zero)
        {
            Task answeredOrPastTheStore = Task.WhenAny(flight.Result, flight.StoreMissed.Task);
            if (_time == TimeProvider.System)
            {
                // A kernel wait with a timeout: it needs no pool thread to end, however many handshakes block at once.
                answeredOrPastTheStore.Wait(policy.StoreWaitTime);
            }
            else
            {
                // Another clock (a test's fake one): the bound on that clock, as every other bound here.
                using var bound = new CancellationTokenSource(policy.StoreWaitTime, _time);
                Task.WhenAny(answeredOrPastTheStore, Task.Delay(Timeout.Infinite, bound.Token)).Wait(CancellationToken.None);
            }
        }

        return flight.Result.IsCompletedSuccessfully
            ? Decide(entry, policy, flight.Result.Result)
            : Decide(entry, policy, Answer.None(OcspClientCertificateReason.Pending, "none held; asking the responder in the background"));
    }

    /// <summary>
    /// What both checks do first: the entry; its held answer decides at once, as does a certificate that names no
    /// responder or failed within the retry time (then <see langword="null"/> is returned with the decision in
    /// <paramref name="decided"/>); otherwise the request to wait for.
    /// </summary>
    private Flight? Begin(
        X509Certificate2 certificate, X509Certificate2 issuer, OcspClientCertificatePolicy policy, out Entry entry, out OcspClientCertificateDecision? decided)
    {
        ArgumentNullException.ThrowIfNull(policy);
        entry = Enter(certificate, issuer, out DateTimeOffset now);
        decided = null;
        if (Held(entry, now) is { } held)
        {
            decided = Decide(entry, policy, held);
            return null;
        }

        Flight? flight = FlightOf(entry, now);
        if (flight is null)
        {
            decided = Decide(entry, policy, Answer.None(entry.HasResponder ? OcspClientCertificateReason.NoAnswer : OcspClientCertificateReason.NoResponder, entry.FailureText));
        }

        return flight;
    }

    public IReadOnlyList<OcspClientCertificateState> GetStates()
    {
        DateTimeOffset now = _time.GetUtcNow();
        return
        [
            .. _entries.Values.Select(e => new OcspClientCertificateState(
                e.Certificate, e.Id, HeldResponse(e, now), new DateTimeOffset(Volatile.Read(ref e.LastChecked), TimeSpan.Zero), e.LastDecision, e.LastFailure)),
        ];
    }

    /// <summary>Forgets every certificate not checked within the idle time: unregistered (no longer refreshed); its store entry is left to expire.</summary>
    public Task<int> SweepAsync()
    {
        long cutoff = (_time.GetUtcNow() - _options.IdleTime).UtcTicks;
        int forgotten = 0;
        foreach (KeyValuePair<ReadOnlyMemory<byte>, Entry> pair in _entries)
        {
            if (Volatile.Read(ref pair.Value.LastChecked) <= cutoff && Forget(pair))
            {
                forgotten++;
            }
        }

        if (forgotten > 0)
        {
            Log.ClientCertificatesForgotten(_logger, forgotten, _options.IdleTime);
        }

        return Task.FromResult(forgotten);
    }

    public void Dispose() => _sweep.Dispose();

    private void StartSweep()
    {
        if (LastSweep.IsCompleted)
        {
            Volatile.Write(ref _lastSweep, SweepAsync());
        }
    }

    /// <summary>The certificate's entry, made (and counted against the cap) on its first check; its last-checked time is now.</summary>
    private Entry Enter(X509Certificate2 certificate, X509Certificate2 issuer, out DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(issuer);
        now = _time.GetUtcNow();
        if (_entries.TryGetValue(certificate.RawDataMemory, out Entry? entry))
        {
            Volatile.Write(ref entry.LastChecked, now.UtcTicks);
            return entry;
        }

        CertificateNames.EnsureIssuedBy(certificate, issuer, nameof(issuer));

        // Copies of our own: a TLS layer disposes the certificates it passes to its callback once the handshake is over.
        X509Certificate2 client = X509CertificateLoader.LoadCertificate(certificate.RawDataMemory.Span);
        X509Certificate2 ca = X509CertificateLoader.LoadCertificate(issuer.RawDataMemory.Span);
        var target = Registration.Create(client, ca, _fetch);
        var created = new Entry(client, ca, target.CacheId, target.HasResponder ? target.ResponderUris : [], now.UtcTicks);
        KeyValuePair<ReadOnlyMemory<byte>, Entry>? evicted = null;
        lock (_capLock)
        {
            if (_entries.TryGetValue(certificate.RawDataMemory, out entry))
            {
                return entry;
            }

            if (_entries.Count >= _options.MaxCertificates)
            {
                evicted = LeastRecentlyChecked();
            }

            _entries[created.Certificate.RawDataMemory] = created;
            _ids[created.Id] = 0;
        }

        if (evicted is { } victim && Forget(victim))
        {
            Log.ClientCertificateEvicted(_logger, CertificateNames.DisplayName(victim.Value.Certificate), _options.MaxCertificates);
        }

        return created;
    }

    private bool Forget(KeyValuePair<ReadOnlyMemory<byte>, Entry> pair)
    {
        if (!_entries.TryRemove(pair))
        {
            return false;
        }

        _ids.TryRemove(pair.Value.Id, out _);
        _provider.Unregister(pair.Value.Id);
        return true;
    }

    /// <summary>O(entries), run only at the cap, at most once per new certificate.</summary>
    private KeyValuePair<ReadOnlyMemory<byte>, Entry>? LeastRecentlyChecked()
    {
        KeyValuePair<ReadOnlyMemory<byte>, Entry>? oldest = null;
        long oldestTicks = long.MaxValue;
        foreach (KeyValuePair<ReadOnlyMemory<byte>, Entry> pair in _entries)
        {
            long checkedAt = Volatile.Read(ref pair.Value.LastChecked);
            if (checkedAt < oldestTicks)
            {
                (oldest, oldestTicks) = (pair, checkedAt);
            }
        }

        return oldest;
    }

    /// <summary>A validated answer held for the certificate and valid now (the provider's registration, or a kept unknown).</summary>
    private OcspStaple? HeldResponse(Entry entry, DateTimeOffset now) =>
        _provider.HeldValid(entry.Id, now) ?? (entry.Unknown is { } unknown && unknown.IsValidAt(now) && now.UtcTicks < entry.UnknownUntil ? unknown : null);

    private Answer? Held(Entry entry, DateTimeOffset now) => HeldResponse(entry, now) is { } held ? Answer.Of(held) : null;

    /// <summary>
    /// The request under way for the certificate, or a new one; <see langword="null"/> when it names no responder, or its
    /// last request failed within the retry time (nothing is asked then).
    /// </summary>
    private Flight? FlightOf(Entry entry, DateTimeOffset now)
    {
        if (entry.Responders.Count == 0 || now.UtcTicks < Volatile.Read(ref entry.RetryAfter))
        {
            return null;
        }

        lock (entry)
        {
            if (entry.Flight is { } running)
            {
                return running;
            }

            var flight = new Flight();
            entry.Flight = flight;
            flight.Result = RunAsync(entry, flight);
            return flight;
        }
    }

    private async Task<Answer> RunAsync(Entry entry, Flight flight)
    {
        Answer answer;
        try
        {
            answer = await AskAsync(entry, flight).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Whatever went wrong, the checks waiting decide by their failure mode and the log says why.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            answer = Answer.None(OcspClientCertificateReason.NoAnswer, $"{ex.GetType().Name}: {ex.Message}");
            Volatile.Write(ref entry.RetryAfter, (_time.GetUtcNow() + _options.FailureRetryTime).UtcTicks);
        }
        finally
        {
            lock (entry)
            {
                entry.Flight = null;
            }
        }

        return answer;
    }

    private async Task<Answer> AskAsync(Entry entry, Flight flight)
    {
        // Registered already (a refresh is failing and the held answer has expired): ask through the registration, and
        // the synchronous check does not wait for it (it may go to the responder).
        bool registered = _provider.GetState(entry.Id) is not null && flight.StoreMissed.TrySetResult();
        OcspRefreshResult? result = registered
            ? await _provider.RefreshAsync(entry.Id).ConfigureAwait(false)
            : await _provider.AskOnceAsync(entry.Id, entry.Issuer, entry.Responders, () => flight.StoreMissed.TrySetResult() || true).ConfigureAwait(false);
        DateTimeOffset now = _time.GetUtcNow();
        OcspStaple? response = result?.Response;
        if (response is { Status: OcspCertificateStatus.Good or OcspCertificateStatus.Revoked } && response.IsValidAt(now) && result!.Succeeded)
        {
            if (_entries.ContainsKey(entry.Certificate.RawDataMemory))
            {
                // Refreshed from now on while it is checked; not when it was forgotten while this request ran.
                await _provider.RegisterAnsweredAsync(entry.Id, entry.Issuer, entry.Responders, result).ConfigureAwait(false);
            }

            entry.LastFailure = null;
            return Answer.Of(response);
        }

        if (response is { Status: OcspCertificateStatus.Unknown } unknown && unknown.IsValidAt(now))
        {
            entry.Unknown = unknown;
            entry.UnknownUntil = Math.Min(unknown.NextUpdate.UtcTicks, (now + _options.UnknownCacheTime).UtcTicks);
            return Answer.Of(unknown);
        }

        OcspFailure? failure = result?.Failure;
        entry.LastFailure = failure;
        Volatile.Write(ref entry.RetryAfter, (now + _options.FailureRetryTime).UtcTicks);
        return Answer.None(OcspClientCertificateReason.NoAnswer, failure?.ToString() ?? "no valid answer");
    }

    private OcspClientCertificateDecision Decide(Entry entry, OcspClientCertificatePolicy policy, Answer answer)
    {
        (bool accepted, string how) = answer.Reason switch
        {
            OcspClientCertificateReason.Good => (true, "good"),
            OcspClientCertificateReason.Revoked => (false, $"revoked{(answer.Response?.RevocationTime is { } at ? $" since {at:u}" : "")}"),
            OcspClientCertificateReason.Unknown => (policy.AcceptUnknown, $"unknown to its responder ({(policy.AcceptUnknown ? "accepted by policy" : "rejected by policy")})"),
            _ => (policy.FailureMode == OcspClientFailureMode.FailOpen, $"{Words(answer.Reason)}: {answer.Detail} ({(policy.FailureMode == OcspClientFailureMode.FailOpen ? "fail-open" : "fail-closed")})"),
        };
        string name = CertificateNames.DisplayName(entry.Certificate);
        var decision = new OcspClientCertificateDecision(accepted, answer.Reason, answer.Response, $"Client certificate {name} {(accepted ? "accepted" : "rejected")}: {how}");
        entry.LastDecision = decision;
        if (_checks.Enabled)
        {
            _checks.Add(1, new KeyValuePair<string, object?>("decision", accepted ? "accepted" : "rejected"), new KeyValuePair<string, object?>("reason", Tag(answer.Reason)));
        }

        // Once per certificate, reason and outcome (a policy change shows up once more).
        int bit = 1 << (((int)answer.Reason * 2) + (accepted ? 1 : 0));
        if ((Interlocked.Or(ref entry.Logged, bit) & bit) == 0)
        {
            Log.ClientCertificateDecided(_logger, accepted && answer.Reason == OcspClientCertificateReason.Good ? LogLevel.Information : LogLevel.Warning, decision.Message);
        }

        return decision;
    }

    private static string Words(OcspClientCertificateReason reason) => reason switch
    {
        OcspClientCertificateReason.NoResponder => "no OCSP responder",
        OcspClientCertificateReason.Timeout => "no answer in time",
        OcspClientCertificateReason.Pending => "no answer yet",
        _ => "no valid answer",
    };

    /// <summary>The metric tag of a reason (a closed set of seven).</summary>
    internal static string Tag(OcspClientCertificateReason reason) => reason switch
    {
        OcspClientCertificateReason.Good => "good",
        OcspClientCertificateReason.Revoked => "revoked",
        OcspClientCertificateReason.Unknown => "unknown",
        OcspClientCertificateReason.NoAnswer => "no_answer",
        OcspClientCertificateReason.Timeout => "timeout",
        OcspClientCertificateReason.Pending => "pending",
        _ => "no_responder",
    };

    /// <summary>What a check learned: a validated response, or why there is none.</summary>
    private sealed record Answer(OcspClientCertificateReason Reason, OcspStaple? Response, string Detail)
    {
        public static Answer Of(OcspStaple response) => new(
            response.Status switch
            {
                OcspCertificateStatus.Good => OcspClientCertificateReason.Good,
                OcspCertificateStatus.Revoked => OcspClientCertificateReason.Revoked,
                _ => OcspClientCertificateReason.Unknown,
            },
            response,
            "");

        public static Answer None(OcspClientCertificateReason reason, string detail) => new(reason, null, detail);
    }

#pragma warning disable SA1401 // Fields, for Volatile and Interlocked access without a lock.
    private sealed class Entry(X509Certificate2 certificate, X509Certificate2 issuer, OcspCertificateId id, IReadOnlyList<Uri> responders, long checkedAt)
    {
        public long LastChecked = checkedAt;
        public long RetryAfter;
        public int Logged;

        public X509Certificate2 Certificate { get; } = certificate;

        public X509Certificate2 Issuer { get; } = issuer;

        public OcspCertificateId Id { get; } = id;

        public IReadOnlyList<Uri> Responders { get; } = responders;

        public bool HasResponder => Responders.Count > 0;

        /// <summary>Gets or sets the request under way (under the entry's lock).</summary>
        public Flight? Flight { get; set; }

        public OcspStaple? Unknown { get; set; }

        public long UnknownUntil { get; set; }

        public OcspFailure? LastFailure { get; set; }

        public OcspClientCertificateDecision? LastDecision { get; set; }

        public string FailureText => LastFailure?.ToString() ?? "its responder failed recently";
    }
#pragma warning restore SA1401

    /// <summary>One request for a certificate: its answer, and a signal that the shared store had none (the synchronous check stops waiting there).</summary>
    private sealed class Flight
    {
        public TaskCompletionSource StoreMissed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<Answer> Result { get; set; } = null!;
    }
}
