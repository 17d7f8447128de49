using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;

namespace Ocsp.Stapling.Internal;

/// <summary>
/// Certificates learned at run time, known by their CertID: a caching proxy's certificates of a known CA, client
/// certificates and their CAs. One rule for all of them:
/// <list type="bullet">
/// <item>only a valid good or revoked answer (from the responder or the shared store) makes a certificate a registration
/// of the provider (served, refreshed, shared); its group's cap bounds those, the least recently used evicted at it;</item>
/// <item>a signed <c>unknown</c> is kept <see cref="OnDemandSettings.UnknownCacheTime"/>, a failure only as the time before
/// the next request (<see cref="OnDemandSettings.FailureRetryTime"/>); neither is refreshed or stored, and all entries never
/// vouched for are bounded apart (<see cref="OnDemandSettings.MaxUnanswered"/>), so junk costs requests, never memory, and
/// never evicts a real certificate;</item>
/// <item>one request per certificate however many callers wait (<see cref="SingleFlight{TKey, TResult}"/>);</item>
/// <item>forgetting (idle for <see cref="OnDemandSettings.IdleTime"/>, or evicted) unregisters it and leaves its shared-store
/// entry to expire at its nextUpdate: other servers of the fleet, and a leaf registration of the same certificate, may
/// be using it.</item>
/// </list>
/// Each entry's state is one immutable snapshot written through <see cref="Write"/>; counts and eviction under one lock.
/// </summary>
internal sealed class OnDemandCertificates : IDisposable
{
    private readonly OcspResponseProvider _provider;
    private readonly OnDemandSettings _settings;
    private readonly OnDemandEvents _events;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<OcspCertificateId, OnDemandEntry> _entries = new();
    private readonly SingleFlight<OcspCertificateId, OnDemandAnswer> _flights = new();
    private readonly Lock _gate = new();
    private readonly ITimer _sweep;
    private int _unanswered;
    private Task _lastSweep = Task.CompletedTask;

    public OnDemandCertificates(OcspResponseProvider provider, OnDemandSettings settings, OnDemandEvents events, TimeProvider time)
    {
        _provider = provider;
        _settings = settings;
        _events = events;
        _time = time;

        // Forgotten at most an eighth of the idle time late (checked at least every minute, at most every hour).
        TimeSpan period = TimeSpan.FromTicks(Math.Clamp(settings.IdleTime.Ticks / 8, TimeSpan.TicksPerMinute, TimeSpan.TicksPerHour));
        _sweep = time.CreateTimer(static state => ((OnDemandCertificates)state!).StartSweep(), this, period, period);
    }

    /// <summary>Gets how many entries are kept (registered and unanswered).</summary>
    public int Count => _entries.Count;

    /// <summary>Gets how many entries were never vouched for (new, unknown, failed).</summary>
    public int UnansweredCount => Volatile.Read(ref _unanswered);

    /// <summary>Gets every entry kept; a moment-in-time enumeration.</summary>
    public IEnumerable<OnDemandEntry> Entries => _entries.Values;

    /// <summary>Gets the last sweep the timer started (tests wait for it).</summary>
    internal Task LastSweep => Volatile.Read(ref _lastSweep);

    /// <summary>The entry of <paramref name="id"/>, or <see langword="null"/>; a use when found.</summary>
    public OnDemandEntry? Find(OcspCertificateId id)
    {
        if (_entries.TryGetValue(id, out OnDemandEntry? entry))
        {
            entry.Touch(_time.GetUtcNow());
            return entry;
        }

        return null;
    }

    /// <summary>The entry of <paramref name="id"/>, made on its first use (counted among the unanswered); a use either way.</summary>
    public OnDemandEntry Enter(OcspCertificateId id, X509Certificate2 issuer, IReadOnlyList<Uri> responders, OnDemandGroup group) =>
        Enter(id, (Issuer: issuer, Responders: responders, Group: group), static (id, c, now) => new OnDemandEntry(id, c.Issuer, c.Responders, c.Group, now));

    /// <summary>The entry of <paramref name="id"/>, made by <paramref name="create"/> on its first use only (counted among the unanswered); a use either way.</summary>
    public OnDemandEntry Enter<TState>(OcspCertificateId id, TState state, Func<OcspCertificateId, TState, DateTimeOffset, OnDemandEntry> create)
    {
        DateTimeOffset now = _time.GetUtcNow();
        if (_entries.TryGetValue(id, out OnDemandEntry? entry))
        {
            entry.Touch(now);
            return entry;
        }

        OnDemandEntry created = create(id, state, now);
        lock (_gate)
        {
            if (_entries.TryGetValue(id, out entry))
            {
                return entry;
            }

            if (_unanswered >= _settings.MaxUnanswered)
            {
                DropUnanswered(now);
            }

            _entries[id] = created;
            _unanswered++;
        }

        return created;
    }

    /// <summary>Whether <paramref name="id"/> is kept (not a use).</summary>
    public bool Contains(OcspCertificateId id) => _entries.ContainsKey(id);

    /// <summary>
    /// The answer held for <paramref name="entry"/> and valid at <paramref name="now"/>, fetched no earlier than
    /// <paramref name="notBefore"/> (and the entry's own recheck): the registration's good or revoked response, or the kept unknown.
    /// </summary>
    public OcspStaple? ValidResponse(OnDemandEntry entry, DateTimeOffset now, DateTimeOffset notBefore = default)
    {
        OnDemandState state = entry.State;
        DateTimeOffset since = state.NotBefore > notBefore ? state.NotBefore : notBefore;
        OcspStaple? held = state.Status switch
        {
            OnDemandStatus.Registered => _provider.ValidResponse(entry.Id, now),
            OnDemandStatus.Unknown when now < state.Until && state.Unknown!.IsValidAt(now) => state.Unknown,
            _ => null,
        };
        return held is not null && held.FetchedAtBy(now) >= since ? held : null;
    }

    /// <summary>
    /// Whether a request may be made for <paramref name="entry"/> now: it names a responder and did not fail within the
    /// retry time. When not, <paramref name="refusal"/> is the answer to give (the failure and its time).
    /// </summary>
    public bool MayAsk(OnDemandEntry entry, DateTimeOffset now, out OnDemandAnswer? refusal)
    {
        OnDemandState state = entry.State;
        if (entry.Responders.Count == 0)
        {
            refusal = OnDemandAnswer.Failed(null, "it names no OCSP responder");
            return false;
        }

        if (state.Status == OnDemandStatus.Failed && now < state.Until && _flights.Current(entry.Id) is null)
        {
            refusal = OnDemandAnswer.Failed(state.Failure, state.Failure?.ToString() ?? "its responder failed recently");
            return false;
        }

        refusal = null;
        return true;
    }

    /// <summary>The request under way for <paramref name="id"/>, to join, or <see langword="null"/>.</summary>
    public Flight<OnDemandAnswer>? FlightOf(OcspCertificateId id) => _flights.Current(id);

    /// <summary>
    /// The request for <paramref name="entry"/>: joined when one is under way, else started. A registered certificate is
    /// refreshed through its registration; another one is answered by the shared store, else (when
    /// <paramref name="refusal"/> names no limit; <see cref="Flight{TResult}.Milestone"/> passes there) by
    /// <paramref name="responders"/> in order. Answers fetched before <paramref name="notBefore"/> (or the entry's recheck) do
    /// not count. A good or revoked answer makes a registration; an unknown is kept; a failure keeps its time.
    /// </summary>
    public Flight<OnDemandAnswer> Ask(OnDemandEntry entry, IReadOnlyList<Uri>? responders = null, Func<Enum?>? refusal = null, DateTimeOffset notBefore = default) =>
        _flights.Run(
            entry.Id,
            (Certificates: this, Entry: entry, Responders: responders ?? entry.Responders, Refusal: refusal, NotBefore: notBefore),
            static (_, c, flight) => c.Certificates.AskCoreAsync(c.Entry, c.Responders, c.Refusal, c.NotBefore, flight));

    /// <summary>
    /// Makes the next decision about <paramref name="entry"/> rest on an answer fetched from now on: the held one stops
    /// counting, and the responder (or a newer shared-store entry) is asked at once.
    /// </summary>
    public Task<OnDemandAnswer> RecheckAsync(OnDemandEntry entry)
    {
        DateTimeOffset now = _time.GetUtcNow();
        Write(entry, now, static (state, now) => state.Status == OnDemandStatus.Forgotten ? null : state with { NotBefore = now });
        return Ask(entry, notBefore: now).Result;
    }

    /// <summary>Drops an entry never vouched for (its kept unknown or failure: a prune); <see langword="false"/> for a registered one, or one asked about now.</summary>
    public bool Drop(OnDemandEntry entry) =>
        entry.State.IsUnanswered && _flights.Current(entry.Id) is null && Forget(entry, onlyIfUnusedSince: long.MaxValue);

    /// <summary>Forgets every certificate not used within the idle time (unregistered; its store entry left to expire) and the unanswered ones past their time.</summary>
    public Task<int> SweepAsync()
    {
        DateTimeOffset now = _time.GetUtcNow();
        long cutoff = (now - _settings.IdleTime).UtcTicks;
        int forgotten = 0;
        foreach (OnDemandEntry entry in _entries.Values)
        {
            OnDemandState state = entry.State;
            if (_flights.Current(entry.Id) is not null)
            {
                continue;
            }

            if (entry.LastUsed <= cutoff)
            {
                forgotten += Forget(entry, onlyIfUnusedSince: cutoff) && state.Status == OnDemandStatus.Registered ? 1 : 0;
            }
            else if (state.Status == OnDemandStatus.Unknown && now >= state.Until)
            {
                Forget(entry, onlyIfUnusedSince: long.MaxValue); // its unknown is spent: nothing kept for it
            }
        }

        if (forgotten > 0)
        {
            _events.Forgotten?.Invoke(forgotten);
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

    private async Task<OnDemandAnswer> AskCoreAsync(
        OnDemandEntry entry, IReadOnlyList<Uri> responders, Func<Enum?>? refusal, DateTimeOffset notBefore, Flight<OnDemandAnswer> flight)
    {
        DateTimeOffset now = _time.GetUtcNow();
        DateTimeOffset since = entry.State.NotBefore > notBefore ? entry.State.NotBefore : notBefore;
        if (ValidResponse(entry, now, since) is { Status: not OcspCertificateStatus.Unknown } held)
        {
            return OnDemandAnswer.Valid(held) with { Source = OcspStapleSource.Memory }; // answered by a request that ended just before this one began
        }

        OnDemandAnswer answer;
        try
        {
            answer = entry.State.Status == OnDemandStatus.Registered && _provider.GetState(entry.Id) is not null
                ? await RefreshAsync(entry, since, flight).ConfigureAwait(false)
                : await FirstAnswerAsync(entry, responders, refusal, since, flight).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Whatever went wrong, the callers decide by their failure mode and the log says why.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            var failure = new OcspFailure(OcspFailureReason.InternalError, $"{ex.GetType().Name}: {ex.Message}", OcspValidationFailure.None, _time.GetUtcNow(), null);
            answer = Failed(entry, failure);
        }

        return answer;
    }

    /// <summary>A registered certificate: its registration's refresh (the store, then the responder, within its back-off).</summary>
    private async Task<OnDemandAnswer> RefreshAsync(OnDemandEntry entry, DateTimeOffset since, Flight<OnDemandAnswer> flight)
    {
        flight.PassMilestone(); // the refresh may go to the responder: a synchronous check stops waiting here
        OcspRefreshResult result;
        try
        {
            result = await _provider.RefreshAsync(entry.Id).ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
            return OnDemandAnswer.Failed(null, "forgotten while it was refreshed");
        }

        DateTimeOffset now = _time.GetUtcNow();
        return ValidResponse(entry, now, since) is { } held
            ? OnDemandAnswer.Valid(held) with { Source = result.Source }
            : OnDemandAnswer.Failed(result.Failure, result.Failure?.ToString() ?? "no valid answer newer than the one held");
    }

    /// <summary>A certificate not registered: the shared store, else (if allowed) its responders; the answer recorded.</summary>
    private async Task<OnDemandAnswer> FirstAnswerAsync(
        OnDemandEntry entry, IReadOnlyList<Uri> responders, Func<Enum?>? refusal, DateTimeOffset since, Flight<OnDemandAnswer> flight)
    {
        Enum? limit = null;
        OcspRefreshResult? result = await _provider.AskOnceAsync(
            entry.Id,
            entry.Issuer,
            responders,
            () =>
            {
                flight.PassMilestone();
                limit = refusal?.Invoke();
                return limit is null;
            },
            since).ConfigureAwait(false);
        if (result is null)
        {
            return OnDemandAnswer.Limited(limit!);
        }

        DateTimeOffset now = _time.GetUtcNow();
        if (result is { Succeeded: true, Response: { Status: OcspCertificateStatus.Good or OcspCertificateStatus.Revoked } staple } && staple.IsValidAt(now))
        {
            var answer = OnDemandAnswer.Valid(staple) with { AnsweredBy = result.AnsweredBy, Source = result.Source };
            if (Registered(entry))
            {
                // Registered from now on while it is kept (not when it was forgotten while this request ran).
                await _provider.RegisterAnsweredAsync(entry.Id, entry.Issuer, responders, result).ConfigureAwait(false);

                // Evicted or forgotten between the two steps: its unregistration may have run before this registration, so
                // this one is undone here. (One that runs after this check comes after the registration and undoes it itself;
                // no other request for this CertID runs while this one does.)
                if (entry.State.Status != OnDemandStatus.Registered)
                {
                    _provider.Unregister(entry.Id);
                    return answer;
                }

                _events.Registered?.Invoke(entry, answer);
            }

            return answer;
        }

        if (result.Response is { Status: OcspCertificateStatus.Unknown } unknown && unknown.IsValidAt(now))
        {
            DateTimeOffset until = now + _settings.UnknownCacheTime < unknown.NextUpdate ? now + _settings.UnknownCacheTime : unknown.NextUpdate;
            Write(entry, (Unknown: unknown, Until: until), static (state, c) =>
                state.IsUnanswered ? state with { Status = OnDemandStatus.Unknown, Unknown = c.Unknown, Until = c.Until, Failure = null } : null);
            return OnDemandAnswer.UnknownUntil(unknown, until) with { AnsweredBy = result.AnsweredBy, Source = result.Source };
        }

        OcspFailure failure = result.Failure
            ?? new OcspFailure(OcspFailureReason.InvalidResponse, "no valid answer", OcspValidationFailure.None, now, result.AnsweredBy);
        return Failed(entry, failure) with { AnsweredBy = result.AnsweredBy, Source = result.Source };
    }

    private OnDemandAnswer Failed(OnDemandEntry entry, OcspFailure failure)
    {
        DateTimeOffset retryAt = _time.GetUtcNow() + _settings.FailureRetryTime;
        Write(entry, (Failure: failure, RetryAt: retryAt), static (state, c) =>
            state.IsUnanswered ? state with { Status = OnDemandStatus.Failed, Unknown = null, Until = c.RetryAt, Failure = c.Failure } : null);
        return OnDemandAnswer.Failed(failure, failure.ToString());
    }

    /// <summary>
    /// Makes <paramref name="entry"/> a registration of its group: counted against the cap, the group's least recently
    /// used registration evicted at it. <see langword="false"/> when it was forgotten meanwhile (not registered then).
    /// </summary>
    private bool Registered(OnDemandEntry entry)
    {
        OnDemandEntry? evicted = null;
        bool capReached = false;
        lock (_gate)
        {
            if (!_entries.TryGetValue(entry.Id, out OnDemandEntry? kept) || !ReferenceEquals(kept, entry) || entry.State.Status == OnDemandStatus.Registered)
            {
                return false;
            }

            OnDemandGroup group = entry.Group;
            if (group.Count >= group.Cap && LeastRecentlyUsed(group) is { } victim)
            {
                evicted = victim;
                RemoveLocked(victim);
                capReached = !group.CapLogged;
                group.CapLogged = true;
            }

            Write(entry, 0, static (state, _) => state with { Status = OnDemandStatus.Registered, Unknown = null, Failure = null, Until = default });
            _unanswered--;
            group.Count++;
        }

        if (capReached)
        {
            _events.CapReached?.Invoke(entry.Group);
        }

        if (evicted is not null)
        {
            _provider.Unregister(evicted.Id);
            _events.Evicted?.Invoke(evicted);
        }

        return true;
    }

    /// <summary>Forgets <paramref name="entry"/> unless it was used after <paramref name="onlyIfUnusedSince"/>; a registered one is unregistered.</summary>
    private bool Forget(OnDemandEntry entry, long onlyIfUnusedSince)
    {
        bool wasRegistered;
        lock (_gate)
        {
            if (entry.LastUsed > onlyIfUnusedSince || !_entries.TryGetValue(entry.Id, out OnDemandEntry? kept) || !ReferenceEquals(kept, entry))
            {
                return false;
            }

            wasRegistered = entry.State.Status == OnDemandStatus.Registered;
            RemoveLocked(entry);
            OnDemandGroup group = entry.Group;
            group.CapLogged &= group.Count >= group.Cap; // below the cap again (not an eviction): the next time it is reached is news
        }

        if (wasRegistered)
        {
            _provider.Unregister(entry.Id);
        }

        return true;
    }

    /// <summary>Removes an entry and its count (under the lock).</summary>
    private void RemoveLocked(OnDemandEntry entry)
    {
        _entries.TryRemove(new KeyValuePair<OcspCertificateId, OnDemandEntry>(entry.Id, entry));
        OnDemandState? was = null;
        Write(entry, 0, (state, _) =>
        {
            was = state;
            return state with { Status = OnDemandStatus.Forgotten };
        });
        if (was is { Status: OnDemandStatus.Registered })
        {
            entry.Group.Count--;
        }
        else if (was is { IsUnanswered: true })
        {
            _unanswered--;
        }
    }

    /// <summary>
    /// Full of unanswered entries: drops those past their time, then, if still full, all of them (under the lock). One
    /// with a request under way goes too: its answer still reaches whoever waits, and is kept for nobody (a dropped entry
    /// is never registered), so the bound holds whatever the number of requests under way.
    /// </summary>
    private void DropUnanswered(DateTimeOffset now)
    {
        foreach (bool all in (ReadOnlySpan<bool>)[false, true])
        {
            foreach (OnDemandEntry entry in _entries.Values)
            {
                OnDemandState state = entry.State;
                if (state.IsUnanswered && (all || now >= state.Until))
                {
                    RemoveLocked(entry);
                }
            }

            if (_unanswered < _settings.MaxUnanswered)
            {
                return;
            }
        }
    }

    /// <summary>The group's registration used least recently: O(entries), run only at the cap (under the lock).</summary>
    private OnDemandEntry? LeastRecentlyUsed(OnDemandGroup group)
    {
        OnDemandEntry? oldest = null;
        foreach (OnDemandEntry entry in _entries.Values)
        {
            if (ReferenceEquals(entry.Group, group) && entry.State.Status == OnDemandStatus.Registered && (oldest is null || entry.LastUsed < oldest.LastUsed))
            {
                oldest = entry;
            }
        }

        return oldest;
    }

    private static void Write<TArg>(OnDemandEntry entry, TArg arg, Func<OnDemandState, TArg, OnDemandState?> change) => entry.Write(arg, change);
}
