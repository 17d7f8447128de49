using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace Ocsp.Stapling.Internal;

/// <summary>
/// The CRLs behind client-certificate checks: one per CA and distribution point, shared by every certificate of that CA.
/// A CRL is taken from the shared store when one there validates (another server of the fleet fetched it), else fetched
/// (<see cref="OcspFetcher.FetchCrlAsync"/>: the OCSP fetches' client, limits and resilience), validated
/// (<see cref="CrlValidation"/>), written to the store and held in memory; a check looks a serial up in it without
/// allocating. A CRL in use is taken again (store first) once three quarters of its thisUpdate–nextUpdate window have
/// passed; after a failure, not again for <see cref="OcspClientCertificateOptions.FailureRetryTime"/>. A CRL past its
/// nextUpdate decides nothing. At most <see cref="MaxHolders"/> CA/URL pairs are kept.
/// </summary>
internal sealed class ClientCrls
{
    /// <summary>The most CAs (and URLs) whose CRLs are held: client CAs are few; a flood of made-up ones cannot grow this.</summary>
    public const int MaxHolders = 256;

    private readonly ConcurrentDictionary<string, CrlHolder> _holders = new(StringComparer.Ordinal);
    private readonly OcspFetcher _fetcher;
    private readonly SharedStapleCache _store;
    private readonly OcspValidationOptions _validation;
    private readonly OcspClientCertificateOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public ClientCrls(
        OcspFetcher fetcher, SharedStapleCache store, OcspValidationOptions validation, OcspClientCertificateOptions options, TimeProvider time, ILogger logger,
        OcspStaplingMetrics? metrics = null)
    {
        _fetcher = fetcher;
        _store = store;
        _validation = validation;
        _options = options;
        _time = time;
        _logger = logger;
        if (metrics is not null)
        {
            // One series per CRL held (a few CAs, at most MaxHolders), tagged with its issuer: how many entries, how long it still decides.
            metrics.Meter.CreateObservableGauge(
                "ocsp.stapling.crl.entries", () => Measure(s => s.Entries), "{entry}", "Serial numbers listed by each CRL held for client-certificate checks (tag issuer).");
            metrics.Meter.CreateObservableGauge(
                "ocsp.stapling.crl.remaining_validity",
                () => Measure(s => Math.Max(0, (long)(s.NextUpdate - _time.GetUtcNow()).TotalSeconds)),
                "s",
                "Seconds until each CRL held reaches its nextUpdate (tag issuer); at 0 it decides nothing.");
        }
    }

    private IEnumerable<Measurement<long>> Measure(Func<OcspCrlState, long> value) =>
        GetStates().Select(s => new Measurement<long>(value(s), new KeyValuePair<string, object?>("issuer", s.Issuer)));

    /// <summary>Gets the number of fetches started (tests: many handshakes, one fetch).</summary>
    internal int Fetches => _holders.Values.Sum(h => h.Fetches);

    /// <summary>The holder of <paramref name="issuer"/>'s CRL at <paramref name="urls"/>; <see langword="null"/> when the table is full of others.</summary>
    public CrlHolder? For(X509Certificate2 issuer, IReadOnlyList<Uri> urls)
    {
        string key = Key(issuer, urls[0]);
        if (_holders.TryGetValue(key, out CrlHolder? holder))
        {
            return holder;
        }

        return _holders.Count >= MaxHolders ? null : _holders.GetOrAdd(key, k => new CrlHolder(this, k, issuer, urls));
    }

    /// <summary>The CRLs held, for the status page and <c>ocsp-stapling status</c>.</summary>
    public IReadOnlyList<OcspCrlState> GetStates() =>
        [.. _holders.Values.Select(h => h.State).OfType<OcspCrlState>().OrderBy(s => s.Issuer, StringComparer.Ordinal)];

    /// <summary>The store key: the CA's key (SHA-256 of its SubjectPublicKeyInfo) and the URL's SHA-256.</summary>
    private static string Key(X509Certificate2 issuer, Uri url)
    {
        byte[] spki = SHA256.HashData(issuer.PublicKey.ExportSubjectPublicKeyInfo());
        byte[] where = SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(url.AbsoluteUri));
        return $"crl:{Convert.ToHexStringLower(spki)}:{Convert.ToHexStringLower(where)[..16]}";
    }

    /// <summary>One CA's CRL from one distribution point: held, being taken, or why there is none.</summary>
    internal sealed class CrlHolder
    {
        private readonly ClientCrls _owner;
        private readonly string _key;
        private readonly Lock _gate = new();
        private readonly ConcurrentDictionary<string, byte> _loggedReasons = new(StringComparer.Ordinal);
        private Held? _held;
        private Task<CrlAnswer>? _flight;
        private TaskCompletionSource? _storeRead;
        private Failure? _failure;
        private long _retakeAfterTicks; // after a take that found no newer CRL: not again before this
        private int _fetches;
        private readonly string _urls;

        public CrlHolder(ClientCrls owner, string key, X509Certificate2 issuer, IReadOnlyList<Uri> urls)
        {
            _owner = owner;
            _key = key;
            Issuer = X509CertificateLoader.LoadCertificate(issuer.RawDataMemory.Span); // a TLS layer disposes its own copy
            Urls = urls;
            Name = Issuer.Subject;
            _urls = string.Join(", ", urls);
        }

        public X509Certificate2 Issuer { get; }

        public IReadOnlyList<Uri> Urls { get; }

        /// <summary>Gets its key in the shared store (after the store's key prefix).</summary>
        public string StoreKey => _key;

        public string Name { get; }

        public int Fetches => Volatile.Read(ref _fetches);

        /// <summary>Gets the attempt under way, or a completed task (tests wait for a handshake's background fetch).</summary>
        public Task Pending => Volatile.Read(ref _flight) ?? Task.CompletedTask;

        /// <summary>Gets the CRL held, valid or not (checks test its nextUpdate).</summary>
        public Held? Current => Volatile.Read(ref _held);

        public OcspCrlState? State => Current is { } held
            ? held.State(Volatile.Read(ref _failure)?.Reason)
            : null;

        /// <summary>The reason of the last failure while it is within the retry time (no new attempt before), else <see langword="null"/>.</summary>
        public string? RecentFailure(DateTimeOffset now) =>
            Volatile.Read(ref _failure) is { } failure && now - failure.At < _owner._options.FailureRetryTime ? failure.Reason : null;

        /// <summary>The attempt under way, or a new one: the store first, then the distribution point. Completes with the CRL held or why there is none.</summary>
        public (Task<CrlAnswer> Answer, Task StoreRead) Ask()
        {
            lock (_gate)
            {
                if (_flight is { IsCompleted: false } flight)
                {
                    return (flight, _storeRead!.Task);
                }

                _storeRead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _flight = Task.Run(TakeAsync);
                return (_flight, _storeRead.Task);
            }
        }

        /// <summary>Starts taking a newer CRL in the background when the held one is due (three quarters of its window) and nothing stops it.</summary>
        public void RefreshIfDue(Held held, DateTimeOffset now)
        {
            if (Due(held, now) && RecentFailure(now) is null && Volatile.Read(ref _flight) is not { IsCompleted: false })
            {
                _ = Ask();
            }
        }

        /// <summary>Whether a newer CRL is to be looked for: three quarters of the held one's window passed, and not just looked for in vain.</summary>
        private bool Due(Held held, DateTimeOffset now) => now >= held.RefreshAt && now.UtcTicks >= Interlocked.Read(ref _retakeAfterTicks);

        private async Task<CrlAnswer> TakeAsync()
        {
            ClientCrls owner = _owner;
            int maxSize = owner._options.MaxCrlSize;
            try
            {
                // The store first: a CRL another server took is as good as one fetched, if it validates and is not older.
                DateTimeOffset now = owner._time.GetUtcNow();
                if (await owner._store.ReadRawAsync(_key, $"CRL of {Name}", maxSize, CancellationToken.None).ConfigureAwait(false) is { } stored
                    && Validated(stored, Urls[0], now, out _) is { } shared
                    && Adopt(shared, Urls[0], now, "from the shared store") is { } adopted
                    && !Due(adopted, now))
                {
                    Volatile.Write(ref _failure, null);
                    return CrlAnswer.Of(adopted);
                }

                _storeRead?.TrySetResult();
                Interlocked.Increment(ref _fetches);
                FetchOutcome outcome = await owner._fetcher.FetchCrlAsync(
                    Urls,
                    maxSize,
                    (body, url) => body.Length > maxSize
                        ? FetchOutcome.TooLarge($"the CRL is over the {maxSize}-byte limit (ClientCertificates:MaxCrlSize)")
                        : Validated(body, url, owner._time.GetUtcNow(), out string? refusal) is { } crl
                            ? FetchOutcome.Success(crl)
                            : FetchOutcome.Fail(OcspFailureReason.InvalidResponse, refusal!, FailureScope.Request),
                    CancellationToken.None).ConfigureAwait(false);
                now = owner._time.GetUtcNow();
                if (outcome.Crl is { } fetched && Adopt(fetched, outcome.Responder ?? Urls[0], now, "fetched") is { } taken)
                {
                    Volatile.Write(ref _failure, null);
                    _loggedReasons.Clear();
                    if (ReferenceEquals(taken.Crl, fetched))
                    {
                        await owner._store.WriteRawAsync(_key, $"CRL of {Name}", fetched.Encoded, taken.NextUpdate).ConfigureAwait(false);
                    }
                    else
                    {
                        // The distribution point still serves the CRL held: look again in a quarter of what is left (at least a minute).
                        TimeSpan wait = (taken.NextUpdate - now) / 4;
                        Interlocked.Exchange(ref _retakeAfterTicks, (now + (wait > TimeSpan.FromMinutes(1) ? wait : TimeSpan.FromMinutes(1))).UtcTicks);
                    }

                    return CrlAnswer.Of(taken);
                }

                return Failed(outcome.Crl is null ? outcome.Message : "a newer CRL was taken meanwhile", now);
            }
#pragma warning disable CA1031 // Whatever breaks, the check gets "no answer" with the reason, and the held CRL keeps deciding.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                return Failed($"{ex.GetType().Name}: {ex.Message}", owner._time.GetUtcNow());
            }
            finally
            {
                _storeRead?.TrySetResult();
            }
        }

        /// <summary>The CRL in <paramref name="der"/> if it is one this CA's certificates may be decided by now; otherwise null and why.</summary>
        private ParsedCrl? Validated(byte[] der, Uri url, DateTimeOffset now, out string? refusal)
        {
            ParsedCrl crl;
            try
            {
                crl = ParsedCrl.Parse(der);
            }
            catch (OcspFormatException ex)
            {
                refusal = ex.Message;
                return null;
            }

            refusal = CrlValidation.Check(crl, Issuer, url, now, _owner._validation.MaxClockSkew, Current?.Crl) is { } why ? $"the CRL is refused: {why}" : null;
            return refusal is null ? crl : null;
        }

        /// <summary>Holds <paramref name="crl"/> unless one at least as new is held already (a race between two takes); the one held afterwards.</summary>
        private Held? Adopt(ParsedCrl crl, Uri url, DateTimeOffset now, string origin)
        {
            lock (_gate)
            {
                Held? current = _held;
                if (current is not null && current.Crl.Encoded.AsSpan().SequenceEqual(crl.Encoded))
                {
                    return current; // the same CRL again
                }

                if (current is not null && (crl.Number is { } number && current.Crl.Number is { } held ? number < held : crl.ThisUpdate < current.Crl.ThisUpdate))
                {
                    return null; // validated against an older one, then overtaken by another take
                }

                var taken = new Held(crl, url, now, Name);
                Volatile.Write(ref _held, taken);
                Log.CrlHeld(
                    _owner._logger, Name, url, crl.Number?.ToString(CultureInfo.InvariantCulture) ?? "(none)", crl.ThisUpdate, crl.NextUpdate, crl.Revoked.Count, origin);
                return taken;
            }
        }

        private CrlAnswer Failed(string reason, DateTimeOffset now)
        {
            Volatile.Write(ref _failure, new Failure(reason, now));
            Held? held = Current;
            string keeping = held is null ? "none held"
                : held.NextUpdate > now ? $"the CRL held (number {held.Crl.Number?.ToString(CultureInfo.InvariantCulture) ?? "none"}, nextUpdate {held.NextUpdate:u}) keeps deciding"
                : $"the CRL held expired at {held.NextUpdate:u}: it decides nothing";
            // Once per kind of reason: its times and numbers vary from one attempt to the next ("has passed (now …)").
            LogLevel level = _loggedReasons.TryAdd(new string([.. reason.Where(c => !char.IsAsciiDigit(c))]), 0) ? LogLevel.Warning : LogLevel.Debug;
            Log.CrlRefused(_owner._logger, level, Name, _urls, reason, keeping);
            return CrlAnswer.None(reason, held);
        }
    }

    private sealed record Failure(string Reason, DateTimeOffset At);

    /// <summary>A validated CRL held: where from, since when, and when it is due to be taken again.</summary>
    internal sealed class Held(ParsedCrl crl, Uri url, DateTimeOffset since, string issuer)
    {
        private OcspCrlState? _state;

        public ParsedCrl Crl { get; } = crl;

        public Uri Url { get; } = url;

        public DateTimeOffset Since { get; } = since;

        public DateTimeOffset NextUpdate { get; } = crl.NextUpdate!.Value;

        public DateTimeOffset RefreshAt { get; } = crl.ThisUpdate + ((crl.NextUpdate!.Value - crl.ThisUpdate) * 3 / 4);

        public bool IsValidAt(DateTimeOffset now) => now < NextUpdate;

        /// <summary>What the status page and a decision show of it (made once, unless a failure is to be shown).</summary>
        public OcspCrlState State(string? lastFailure = null) => lastFailure is null
            ? _state ??= new OcspCrlState(issuer, Url, Crl.Number, Crl.ThisUpdate, NextUpdate, Crl.Revoked.Count, Since, null)
            : new OcspCrlState(issuer, Url, Crl.Number, Crl.ThisUpdate, NextUpdate, Crl.Revoked.Count, Since, lastFailure);
    }

    /// <summary>What an attempt left: the CRL held afterwards (perhaps the one held before), and why no new one if it failed.</summary>
    internal sealed record CrlAnswer(Held? Held, string? Failure)
    {
        public static CrlAnswer Of(Held held) => new(held, null);

        public static CrlAnswer None(string reason, Held? held) => new(held, reason);
    }
}
