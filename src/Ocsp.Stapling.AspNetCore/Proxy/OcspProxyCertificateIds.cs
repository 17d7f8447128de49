using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Ocsp.Stapling.Internal;

namespace Ocsp.Stapling.AspNetCore.Internal;

/// <summary>
/// The certificates of the proxy's known CAs that it caches because someone asked, with when each was last asked for.
/// Only real certificates are kept: a CertID becomes a registration (cached, refreshed, counted against its CA's cap)
/// once its responder, or the shared store, gave a valid good or revoked answer. An unknown answer is relayed and kept
/// briefly in <see cref="UnknownAnswers"/>, never refreshed; a failure keeps nothing. Concurrent first requests for one
/// CertID share one upstream request. At the cap the least recently asked certificate is evicted; a sweep on the
/// <see cref="TimeProvider"/> forgets those nobody asked for within <see cref="OcspProxyOptions.ForgetAfter"/>; both
/// delete the shared-store entry, so what the proxy stores is bounded by what it holds.
/// </summary>
internal sealed class OcspProxyCertificateIds : IDisposable
{
    private readonly OcspResponseProvider _provider;
    private readonly ForwardLimits _forwardLimits;
    private readonly UnknownAnswers _unknown;
    private readonly ProxyActivity _activity;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TimeSpan _forgetAfter;
    private readonly int _cap;
    private readonly Authority[] _authorities;
    private readonly ConcurrentDictionary<OcspCertificateId, Entry> _entries = new();
    private readonly ConcurrentDictionary<OcspCertificateId, Task<FirstAnswer>> _flights = new();
    private readonly ITimer? _sweep;
    private Task _lastSweep = Task.CompletedTask;

    public OcspProxyCertificateIds(
        OcspResponseProvider provider, ForwardLimits forwardLimits, UnknownAnswers unknown, ProxyActivity activity, OcspProxyOptions options, TimeProvider time, ILogger logger)
    {
        _provider = provider;
        _forwardLimits = forwardLimits;
        _unknown = unknown;
        _activity = activity;
        _time = time;
        _logger = logger;
        _forgetAfter = options.ForgetAfter;
        _cap = options.MaxCachedCertificatesPerAuthority;
        _authorities = [.. options.CertificateAuthorities.Select(a => new Authority(a))];
        if (_authorities.Length > 0)
        {
            // Forgotten at most an eighth of ForgetAfter late (at most an hour, checked at least every minute).
            TimeSpan period = TimeSpan.FromTicks(Math.Clamp(_forgetAfter.Ticks / 8, TimeSpan.TicksPerMinute, TimeSpan.TicksPerHour));
            _sweep = time.CreateTimer(static state => ((OcspProxyCertificateIds)state!).StartSweep(), this, period, period);
        }
    }

    /// <summary>Gets the number of CertIDs cached now.</summary>
    public int Count => _entries.Count;

    /// <summary>Gets the last sweep started by the timer (tests wait for it).</summary>
    internal Task LastSweep => Volatile.Read(ref _lastSweep);

    /// <summary>The known CA that <paramref name="id"/> names (issuer name and key hash), or <see langword="null"/>.</summary>
    public OcspProxyCertificateAuthority? AuthorityOf(OcspCertificateId id) => Find(id)?.Options;

    /// <summary>Records a request for a cached CertID (it counts as asked: not forgotten, evicted last).</summary>
    public void Touch(OcspCertificateId id)
    {
        if (_entries.TryGetValue(id, out Entry? entry))
        {
            Volatile.Write(ref entry.LastAsked, _time.GetUtcNow().UtcTicks);
        }
    }

    /// <summary>The first request for <paramref name="id"/> under way, to join; <see langword="null"/> when there is none.</summary>
    public Task<FirstAnswer>? FlightOf(OcspCertificateId id) => _flights.GetValueOrDefault(id);

    /// <summary>
    /// The first request for <paramref name="id"/>, a CertID of a known CA not cached yet: the shared store's answer, else
    /// the responder's (asked of <paramref name="responder"/>, or of the backends of <paramref name="front"/> in their order,
    /// only when <paramref name="client"/> has a token left and the responder's limits allow it), registered when good or
    /// revoked. Concurrent calls for one CertID share one run.
    /// </summary>
    public Task<FirstAnswer> AskAsync(OcspCertificateId id, Uri responder, BackendFront? front, ClientLimits.Lease client)
    {
        if (Find(id) is not { } authority)
        {
            throw new ArgumentException($"{id} names none of the proxy's CAs.", nameof(id));
        }

        var owner = new TaskCompletionSource<FirstAnswer>(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<FirstAnswer> flight = _flights.GetOrAdd(id, owner.Task);
        if (flight == owner.Task)
        {
            _ = RunAsync(id, authority, responder, front, client, owner);
        }

        return flight;
    }

    /// <summary>Forgets (unregisters, and deletes from the shared store) every CertID not asked for within <see cref="OcspProxyOptions.ForgetAfter"/>.</summary>
    public async Task<int> SweepAsync()
    {
        long cutoff = (_time.GetUtcNow() - _forgetAfter).UtcTicks;
        var forgotten = new List<OcspCertificateId>();
        foreach (KeyValuePair<OcspCertificateId, Entry> pair in _entries)
        {
            Entry entry = pair.Value;
            if (Volatile.Read(ref entry.LastAsked) > cutoff)
            {
                continue;
            }

            lock (entry.Authority)
            {
                // Asked again since it was read above: keep it.
                if (Volatile.Read(ref entry.LastAsked) > cutoff || !_entries.TryRemove(pair))
                {
                    continue;
                }

                entry.Authority.Count--;
                entry.Authority.CapLogged &= entry.Authority.Count >= _cap; // below the cap again: the next time it is reached is news
            }

            forgotten.Add(pair.Key);
        }

        foreach (OcspCertificateId id in forgotten)
        {
            await _provider.ForgetAsync(id).ConfigureAwait(false);
        }

        if (forgotten.Count > 0)
        {
            Log.ProxyCertificateIdsForgotten(_logger, forgotten.Count, _forgetAfter);
        }

        return forgotten.Count;
    }

    public void Dispose() => _sweep?.Dispose();

    private void StartSweep()
    {
        if (LastSweep.IsCompleted)
        {
            Volatile.Write(ref _lastSweep, SweepAsync());
        }
    }

    private async Task RunAsync(
        OcspCertificateId id, Authority authority, Uri responder, BackendFront? front, ClientLimits.Lease client, TaskCompletionSource<FirstAnswer> completion)
    {
        FirstAnswer answer;
        try
        {
            answer = await FirstAnswerAsync(id, authority, responder, front, client).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Whatever went wrong, the clients waiting get tryLater and the log says why.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            answer = FirstAnswer.Failed($"{ex.GetType().Name}: {ex.Message}");
        }

        _flights.TryRemove(new KeyValuePair<OcspCertificateId, Task<FirstAnswer>>(id, completion.Task));
        completion.TrySetResult(answer);
    }

    private async Task<FirstAnswer> FirstAnswerAsync(OcspCertificateId id, Authority authority, Uri responder, BackendFront? front, ClientLimits.Lease client)
    {
        // Registered by a first request that ended just before this one began (a burst): nothing to ask.
        if (_provider.GetState(id)?.Staple is { } held && held.IsValidAt(_time.GetUtcNow()))
        {
            return FirstAnswer.Cached(held);
        }

        string? limit = null;
        IDisposable? upstream = null;
        OcspRefreshResult? result;
        IReadOnlyList<Uri> responders = front?.Ordered() ?? [responder];
        try
        {
            result = await _provider.AskOnceAsync(id, authority.Options.Certificate, responders, () =>
            {
                limit = client.TryTakeToken() ? null : "client_rate";
                upstream = limit is null ? _forwardLimits.TryAcquire(responder, out limit) : null;
                return upstream is not null;
            }).ConfigureAwait(false);
        }
        finally
        {
            upstream?.Dispose();
        }

        if (result is null)
        {
            return FirstAnswer.Limited(limit!);
        }

        if (front is not null && result.Source == OcspStapleSource.Responder)
        {
            // Those tried before the one that answered failed (or all of them, when none did).
            front.Record(responders, result.AnsweredBy, result.Failure?.Message ?? "");
            responders = front.Ordered();
        }

        if (result is { Succeeded: true, Response: { Status: OcspCertificateStatus.Good or OcspCertificateStatus.Revoked } staple })
        {
            await _provider.RegisterAnsweredAsync(id, authority.Options.Certificate, responders, result).ConfigureAwait(false);
            await TrackAsync(id, authority, responder, result.Source).ConfigureAwait(false);
            return FirstAnswer.Cached(staple);
        }

        if (result.Response is { Status: OcspCertificateStatus.Unknown } unknown)
        {
            return FirstAnswer.Unknown(unknown, _unknown.Add(id, unknown));
        }

        return FirstAnswer.Failed(result.Failure?.ToString() ?? "no answer");
    }

    /// <summary>Counts a newly registered CertID against its CA's cap, evicting (forgetting) the least recently asked one there when the CA is at its cap.</summary>
    private async Task TrackAsync(OcspCertificateId id, Authority authority, Uri responder, OcspStapleSource source)
    {
        long now = _time.GetUtcNow().UtcTicks;
        OcspCertificateId? evicted = null;
        bool capReached = false;
        lock (authority)
        {
            if (_entries.TryGetValue(id, out Entry? known))
            {
                Volatile.Write(ref known.LastAsked, now);
                return;
            }

            if (authority.Count >= _cap && LeastRecentlyAsked(authority) is { } victim && _entries.TryRemove(victim))
            {
                evicted = victim.Key;
                authority.Count--;
                capReached = !authority.CapLogged;
                authority.CapLogged = true;
            }

            _entries[id] = new Entry(authority, now);
            authority.Count++;
        }

        Log.ProxyCertificateIdCached(_logger, id.ToString(), authority.Options.Certificate.Subject, responder.ToString(), source);
        if (capReached)
        {
            Log.ProxyCertificateIdCapReached(_logger, authority.Options.Certificate.Subject, _cap);
        }

        if (evicted is { } gone)
        {
            await _provider.ForgetAsync(gone).ConfigureAwait(false);
            Log.ProxyCertificateIdEvicted(_logger, gone.ToString(), authority.Options.Certificate.Subject);
            _activity.Evicted(1);
        }
    }

    /// <summary>The entry of <paramref name="authority"/> asked for least recently: O(entries), run only at the cap, at most at the forward rate.</summary>
    private KeyValuePair<OcspCertificateId, Entry>? LeastRecentlyAsked(Authority authority)
    {
        KeyValuePair<OcspCertificateId, Entry>? oldest = null;
        long oldestTicks = long.MaxValue;
        foreach (KeyValuePair<OcspCertificateId, Entry> pair in _entries)
        {
            long asked = Volatile.Read(ref pair.Value.LastAsked);
            if (ReferenceEquals(pair.Value.Authority, authority) && asked < oldestTicks)
            {
                (oldest, oldestTicks) = (pair, asked);
            }
        }

        return oldest;
    }

    private Authority? Find(OcspCertificateId id)
    {
        foreach (Authority authority in _authorities)
        {
            if (authority.Names(id))
            {
                return authority;
            }
        }

        return null;
    }

    /// <summary>What became of a first request: <see cref="Kind"/> and what to answer.</summary>
    internal sealed record FirstAnswer(FirstAnswerKind Kind, OcspStaple? Response, DateTimeOffset CacheUntil, string Reason)
    {
        public static FirstAnswer Cached(OcspStaple response) => new(FirstAnswerKind.Cached, response, response.NextUpdate, "");

        public static FirstAnswer Unknown(OcspStaple response, DateTimeOffset until) => new(FirstAnswerKind.Unknown, response, until, "");

        public static FirstAnswer Limited(string limit) => new(FirstAnswerKind.Limited, null, default, limit);

        public static FirstAnswer Failed(string reason) => new(FirstAnswerKind.Failed, null, default, reason);
    }

    internal enum FirstAnswerKind
    {
        Cached,
        Unknown,
        Limited,
        Failed,
    }

    private sealed class Authority(OcspProxyCertificateAuthority options)
    {
        // The CA's CertID hashes in the two algorithms clients use, computed once: an unknown issuer costs two comparisons per CA.
        private readonly OcspCertificateId _sha1 = OcspCertificateId.Create(options.Certificate, [1], OcspHashAlgorithm.Sha1);
        private readonly OcspCertificateId _sha256 = OcspCertificateId.Create(options.Certificate, [1], OcspHashAlgorithm.Sha256);

        public OcspProxyCertificateAuthority Options { get; } = options;

        /// <summary>Gets or sets how many of its CertIDs are cached (under its lock).</summary>
        public int Count { get; set; }

        /// <summary>Gets or sets a value indicating whether reaching the cap was logged (once per CA).</summary>
        public bool CapLogged { get; set; }

        public bool Names(OcspCertificateId id) => id.HashAlgorithm switch
        {
            OcspHashAlgorithm.Sha1 => SameIssuer(id, _sha1),
            OcspHashAlgorithm.Sha256 => SameIssuer(id, _sha256),
            _ => id.IsIssuedBy(Options.Certificate),
        };

        private static bool SameIssuer(OcspCertificateId id, OcspCertificateId ours) =>
            id.IssuerKeyHash.Span.SequenceEqual(ours.IssuerKeyHash.Span) && id.IssuerNameHash.Span.SequenceEqual(ours.IssuerNameHash.Span);
    }

    private sealed class Entry(Authority authority, long lastAsked)
    {
#pragma warning disable SA1401 // A field, for Volatile reads and writes without a lock.
        public long LastAsked = lastAsked;
#pragma warning restore SA1401

        public Authority Authority { get; } = authority;
    }
}
