using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ocsp.Stapling.Internal;

/// <summary>
/// The provider's public face, and nothing more: it answers the two public interfaces from the store
/// (<see cref="RegistrationStore"/>, L1), runs refreshes through <see cref="StapleRefresher"/> (L2, responder,
/// validation), and leaves due times to <see cref="RefreshScheduler"/>.
/// </summary>
internal sealed class OcspResponseProvider : IOcspResponseProvider, IOcspCertificateRegistry, IDisposable
{
    private static readonly KeyValuePair<string, object?> L1Tag = new("level", "l1");
    private static readonly KeyValuePair<string, object?> HitTag = new("result", "hit");
    private static readonly KeyValuePair<string, object?> MissTag = new("result", "miss");

    private readonly RegistrationStore _store;
    private readonly RefreshScheduler _scheduler;
    private readonly StapleRefresher _refresher;
    private readonly SharedStapleCache _shared;
    private readonly OcspNotifications _events;
    private readonly OcspStaplingOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly System.Diagnostics.Metrics.Counter<long> _lookups;

    public OcspResponseProvider(
        RegistrationStore store,
        RefreshScheduler scheduler,
        StapleRefresher refresher,
        SharedStapleCache shared,
        OcspNotifications events,
        OcspStaplingMetrics metrics,
        IOptions<OcspStaplingOptions> options,
        TimeProvider time,
        ILogger logger)
    {
        _store = store;
        _scheduler = scheduler;
        _refresher = refresher;
        _shared = shared;
        _events = events;
        _options = options.Value;
        _time = time;
        _logger = logger;
        Metrics = metrics;
        _lookups = metrics.Lookups;
        events.Sender = this;
        store.Expired += OnExpired;
    }

    public event EventHandler<OcspStapleUpdatedEventArgs>? StapleUpdated
    {
        add => _events.StapleUpdated += value;
        remove => _events.StapleUpdated -= value;
    }

    public event EventHandler<OcspStapleRemovedEventArgs>? StapleRemoved
    {
        add => _events.StapleRemoved += value;
        remove => _events.StapleRemoved -= value;
    }

    public event EventHandler<OcspStapleFailedEventArgs>? StapleFailed
    {
        add => _events.StapleFailed += value;
        remove => _events.StapleFailed -= value;
    }

    public event EventHandler<OcspCertificateRevokedEventArgs>? CertificateRevoked
    {
        add => _events.CertificateRevoked += value;
        remove => _events.CertificateRevoked -= value;
    }

    public event EventHandler<OcspCertificateEventArgs>? CertificateRegistered
    {
        add => _events.CertificateRegistered += value;
        remove => _events.CertificateRegistered -= value;
    }

    public event EventHandler<OcspCertificateEventArgs>? CertificateUnregistered
    {
        add => _events.CertificateUnregistered += value;
        remove => _events.CertificateUnregistered -= value;
    }

    internal OcspStaplingMetrics Metrics { get; }

    public bool TryGetCachedStaple(X509Certificate2 certificate, [NotNullWhen(true)] out OcspStaple? staple)
    {
        // The handshake path: two lock-free dictionary reads at most, one field read. No lock, no clock, no allocation.
        if (_store.Find(certificate)?.Servable is { } servable)
        {
            if (_lookups.Enabled)
            {
                _lookups.Add(1, L1Tag, HitTag);
            }

            staple = servable;
            return true;
        }

        if (_lookups.Enabled)
        {
            _lookups.Add(1, L1Tag, MissTag);
        }

        staple = null;
        return false;
    }

    public async ValueTask<OcspStaple?> GetStapleAsync(X509Certificate2 certificate, X509Certificate2 issuer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(issuer);
        if (TryGetCachedStaple(certificate, out OcspStaple? cached))
        {
            return cached;
        }

        OcspRefreshResult result;
        if (_store.Find(certificate) is not { } registration)
        {
            CertificateNames.EnsureIssuedBy(certificate, issuer, nameof(issuer));
            result = await _refresher.FetchOnceAsync(certificate, issuer).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        else if (RegistrationStore.Held(registration, _time.GetUtcNow()) is { } held && !_store.IsServable(held))
        {
            return null; // Revoked and not to be stapled: asking the responder again changes nothing.
        }
        else
        {
            result = await RefreshAsync(registration, servePersisted: true, cancellationToken).ConfigureAwait(false);
        }

        return result.IsServed ? result.Response : null;
    }

    public bool Register(X509Certificate2 certificate, X509Certificate2 issuer)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(issuer);
        return Add(certificate, issuer, _time.GetUtcNow(), bulk: false) is not null;
    }

    public int RegisterAll(IEnumerable<(X509Certificate2 Certificate, X509Certificate2 Issuer)> certificates)
    {
        ArgumentNullException.ThrowIfNull(certificates);
        (X509Certificate2 Certificate, X509Certificate2 Issuer)[] pairs = [.. certificates];
        for (int i = 0; i < pairs.Length; i++)
        {
            (X509Certificate2? certificate, X509Certificate2? issuer) = pairs[i];
            if (certificate is null || issuer is null)
            {
                throw new ArgumentException($"Element {i} has no {(certificate is null ? "certificate" : "issuer")}; nothing was registered.", nameof(certificates));
            }

            if (!CertificateNames.IsIssuedBy(certificate, issuer))
            {
                throw new ArgumentException(
                    $"Element {i}: '{issuer.Subject}' is not the issuer of '{certificate.Subject}' (its issuer is '{certificate.Issuer}'); nothing was registered.", nameof(certificates));
            }
        }

        int added = 0, mustStaple = 0, withoutResponder = 0;
        DateTimeOffset now = _time.GetUtcNow();
        foreach ((X509Certificate2 certificate, X509Certificate2 issuer) in pairs)
        {
            if (Add(certificate, issuer, now, bulk: true) is { } registration)
            {
                added++;
                mustStaple += certificate.IsMustStaple() ? 1 : 0;
                withoutResponder += registration.HasResponder ? 0 : 1;
            }
        }

        Log.CertificatesRegistered(_logger, added, pairs.Length - added, mustStaple, withoutResponder);
        return added;
    }

    /// <summary>Registers one certificate, due for its first fetch at <paramref name="now"/>; <see langword="null"/> when it already was.</summary>
    private Registration? Add(X509Certificate2 certificate, X509Certificate2 issuer, DateTimeOffset now, bool bulk)
    {
        if (_store.Find(certificate) is not null)
        {
            return null;
        }

        var registration = Registration.Create(certificate, issuer, _options.Fetch);
        if (!_store.TryAdd(registration))
        {
            return null;
        }

        string? noResponder = registration.HasResponder ? null : registration.ResponderDisabled ? "disabled by override" : "no OCSP URL in AIA and no override";
        if (bulk)
        {
            // One summary line for the list; each certificate at Debug (its name and list made only when logged).
            if (_logger.IsEnabled(LogLevel.Debug))
            {
                string listed = noResponder is null ? string.Join(", ", registration.ResponderUris) : "none: " + noResponder;
                Log.CertificateRegisteredInBulk(_logger, registration.DisplayName, certificate.IsMustStaple(), listed);
            }
        }
        else
        {
            string responders = string.Join(", ", registration.ResponderUris);
            Log.CertificateRegistered(_logger, registration.DisplayName, certificate.IsMustStaple(), responders);
            if (noResponder is not null)
            {
                Log.NoResponder(_logger, registration.DisplayName, noResponder);
            }
        }

        _scheduler.Schedule(registration, now);
        _events.Registered(new OcspCertificateEventArgs(certificate, issuer));
        return registration;
    }

    public bool Unregister(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        if (_store.Remove(certificate, out OcspStaple? served) is not { } registration)
        {
            return false;
        }

        Log.CertificateUnregistered(_logger, registration.DisplayName);
        X509Certificate2 leaf = registration.Certificate!; // found by certificate
        _events.Unregistered(new OcspCertificateEventArgs(leaf, registration.Issuer));
        if (served is not null)
        {
            _events.Removed(new OcspStapleRemovedEventArgs(leaf, served, OcspStapleRemovalReason.Unregistered));
        }

        return true;
    }

    public bool Register(OcspCertificateId certificateId, X509Certificate2 issuer, Uri responder)
    {
        ArgumentNullException.ThrowIfNull(certificateId);
        ArgumentNullException.ThrowIfNull(issuer);
        ArgumentNullException.ThrowIfNull(responder);
        if (!OcspHttpEncoding.IsResponderUri(responder))
        {
            throw new ArgumentException($"The responder '{responder}' is not an absolute http(s) URL.", nameof(responder));
        }

        if (_store.Find(certificateId) is not null)
        {
            return false;
        }

        var registration = Registration.Create(certificateId, issuer, responder);
        if (!_store.TryAdd(registration))
        {
            return false;
        }

        Log.CertificateRegistered(_logger, registration.DisplayName, false, responder.ToString());
        _scheduler.Schedule(registration, _time.GetUtcNow());
        return true;
    }

    public bool Unregister(OcspCertificateId certificateId)
    {
        ArgumentNullException.ThrowIfNull(certificateId);
        if (_store.Remove(certificateId, out _) is not { } registration)
        {
            return false;
        }

        Log.CertificateUnregistered(_logger, registration.DisplayName);
        return true;
    }

    public Task<OcspRefreshResult> RefreshAsync(OcspCertificateId certificateId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(certificateId);
        Registration registration = _store.Find(certificateId)
            ?? throw new InvalidOperationException($"{certificateId} is not registered for OCSP stapling.");
        return RefreshAsync(registration, servePersisted: true, cancellationToken);
    }

    public OcspCertificateState? GetState(OcspCertificateId certificateId)
    {
        ArgumentNullException.ThrowIfNull(certificateId);
        return _store.Find(certificateId)?.ToState();
    }

    public async Task<OcspStaple?> WarmUpAsync(X509Certificate2 certificate, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        Registration registration = Find(certificate);
        if (registration.Staple is null)
        {
            await _refresher.LoadFromCacheAsync(registration, cancellationToken).ConfigureAwait(false);
        }

        return TryGetCachedStaple(certificate, out OcspStaple? staple) ? staple : null;
    }

    public Task<OcspRefreshResult> RefreshAsync(X509Certificate2 certificate, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return RefreshAsync(Find(certificate), servePersisted: false, cancellationToken);
    }

    public async Task<bool> PruneAsync(X509Certificate2 certificate, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        if (_store.Find(certificate) is not { } registration)
        {
            return false;
        }

        // A prune asks for a refetch and nothing more: the held response is served until a valid newer one replaces it,
        // at most one prune per certificate per MinimumPruneInterval, and never inside the failure back-off.
        DateTimeOffset now = _time.GetUtcNow();
        lock (registration)
        {
            if (registration.ConsecutiveFailures > 0 && now < registration.NextRefresh && registration.InFlight is null)
            {
                Log.PruneIgnored(_logger, registration.DisplayName, $"the responder failed {registration.ConsecutiveFailures} time(s); the next attempt is at {registration.NextRefresh:u} (failure back-off)");
                return false;
            }

            if (registration.LastPruneAt is { } last && now - last < _options.MinimumPruneInterval && now >= last)
            {
                Log.PruneIgnored(_logger, registration.DisplayName, $"the last prune was at {last:u}; at most one per {_options.MinimumPruneInterval} (MinimumPruneInterval)");
                return false;
            }

            registration.LastPruneAt = now;
        }

        Log.StaplePruned(_logger, registration.DisplayName);
        await _refresher.RefreshAsync(registration).WaitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    public OcspCertificateState? GetState(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return _store.Find(certificate)?.ToState();
    }

    public IReadOnlyList<OcspCertificateState> GetStates() => _store.All.Select(r => r.ToState()).ToArray();

    public void Dispose() => _store.Dispose();

    /// <summary>Runs every refresh due now and waits for all of them: one pass of the scheduler, for tests driving a fake clock.</summary>
    internal async Task RunDueAsync(CancellationToken cancellationToken)
    {
        var running = new List<Task>();
        DateTimeOffset now = _time.GetUtcNow();
        while (_scheduler.TryTakeDue(now, out Registration registration))
        {
            cancellationToken.ThrowIfCancellationRequested();
            running.Add(_refresher.RefreshAsync(registration));
        }

        await Task.WhenAll(running).ConfigureAwait(false);
    }

    internal Registration? FindRegistration(X509Certificate2 certificate) => _store.Find(certificate);

    private Registration Find(X509Certificate2 certificate) =>
        _store.Find(certificate) ?? throw new InvalidOperationException($"Certificate {certificate.GetDisplayName()} is not registered for OCSP stapling.");

    private Task<OcspRefreshResult> RefreshAsync(Registration registration, bool servePersisted, CancellationToken cancellationToken)
    {
        // Inside the failure back-off: callers must not turn a responder outage into a request storm.
        if (registration.ConsecutiveFailures > 0 && _time.GetUtcNow() < registration.NextRefresh && registration.InFlight is null)
        {
            return Task.FromResult(_refresher.Current(registration));
        }

        return _refresher.RefreshAsync(registration, servePersisted).WaitAsync(cancellationToken);
    }

    private void OnExpired(Registration registration, OcspStaple staple)
    {
        Log.StapleExpired(_logger, registration.DisplayName, staple.NextUpdate);
        if (registration.Certificate is { } leaf)
        {
            _events.Removed(new OcspStapleRemovedEventArgs(leaf, staple, OcspStapleRemovalReason.Expired));
        }
    }
}
