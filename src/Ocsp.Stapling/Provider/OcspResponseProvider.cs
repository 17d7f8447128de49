using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace Ocsp.Stapling.Internal;

/// <summary>
/// The provider's public face, and nothing more: it answers <see cref="IOcspResponseProvider"/> and
/// <see cref="OcspCertificateRegistry"/> from the store (<see cref="RegistrationStore"/>, L1), runs refreshes through
/// <see cref="StapleRefresher"/> (L2, responder, validation), and leaves due times to <see cref="RefreshScheduler"/>.
/// Registration is in <c>OcspResponseProvider.Registration.cs</c>, refreshes and prunes in <c>OcspResponseProvider.Refresh.cs</c>.
/// </summary>
internal sealed partial class OcspResponseProvider : OcspCertificateRegistry, IOcspResponseProvider, IDisposable
{
    private static readonly KeyValuePair<string, object?> L1Tag = new("level", "l1");
    private static readonly KeyValuePair<string, object?> HitTag = new("result", "hit");
    private static readonly KeyValuePair<string, object?> MissTag = new("result", "miss");

    private readonly RegistrationStore _store;
    private readonly RefreshScheduler _scheduler;
    private readonly StapleRefresher _refresher;
    private readonly OneShotAnswers _oneShots;
    private readonly OcspNotifications _events;
    private readonly OcspFetchOptions _fetch;
    private readonly TimeSpan _minimumPruneInterval;
    private readonly OcspRefreshOptions _refreshOptions;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly System.Diagnostics.Metrics.Counter<long> _lookups;

    public OcspResponseProvider(
        RegistrationStore store,
        RefreshScheduler scheduler,
        StapleRefresher refresher,
        OneShotAnswers oneShots,
        OcspNotifications events,
        OcspStaplingMetrics metrics,
        OcspFetchOptions fetch,
        OcspRefreshOptions refresh,
        TimeProvider time,
        ILogger logger)
    {
        _store = store;
        _scheduler = scheduler;
        _refresher = refresher;
        _oneShots = oneShots;
        _events = events;
        _fetch = fetch;
        _minimumPruneInterval = refresh.MinimumPruneInterval;
        _refreshOptions = refresh;
        _time = time;
        _logger = logger;
        _lookups = metrics.Lookups;
        events.Sender = this;
        store.Expired += OnExpired;
    }

    public override event EventHandler<OcspStapleUpdatedEventArgs>? StapleUpdated
    {
        add => _events.StapleUpdated += value;
        remove => _events.StapleUpdated -= value;
    }

    public override event EventHandler<OcspStapleRemovedEventArgs>? StapleRemoved
    {
        add => _events.StapleRemoved += value;
        remove => _events.StapleRemoved -= value;
    }

    public override event EventHandler<OcspStapleFailedEventArgs>? StapleFailed
    {
        add => _events.StapleFailed += value;
        remove => _events.StapleFailed -= value;
    }

    public override event EventHandler<OcspCertificateRevokedEventArgs>? CertificateRevoked
    {
        add => _events.CertificateRevoked += value;
        remove => _events.CertificateRevoked -= value;
    }

    public override event EventHandler<OcspCertificateEventArgs>? CertificateRegistered
    {
        add => _events.CertificateRegistered += value;
        remove => _events.CertificateRegistered -= value;
    }

    public override event EventHandler<OcspCertificateEventArgs>? CertificateUnregistered
    {
        add => _events.CertificateUnregistered += value;
        remove => _events.CertificateUnregistered -= value;
    }

    public bool TryGetCachedStaple(X509Certificate2 certificate, [NotNullWhen(true)] out OcspStaple? staple)
    {
        // The handshake path: two lock-free dictionary reads at most, one snapshot read. No lock, no clock, no allocation.
        if (_store.Find(certificate)?.State.Served is { } servable)
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
            result = await _oneShots.FetchOnceAsync(certificate, issuer).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        else if (registration.State.ValidResponse(_time.GetUtcNow()) is { } held && !_store.MayServe(held))
        {
            return null; // Revoked and not to be stapled: asking the responder again changes nothing.
        }
        else
        {
            result = await RefreshAsync(registration, servePersisted: true, cancellationToken).ConfigureAwait(false);
        }

        return result.IsServed ? result.Response : null;
    }

    public override OcspCertificateState? GetState(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return _store.Find(certificate) is { } registration ? OcspCertificateState.Of(registration) : null;
    }

    public override IReadOnlyList<OcspCertificateState> GetStates() => [.. _store.All.Select(OcspCertificateState.Of)];

    public void Dispose() => _store.Dispose();

    internal Registration? FindRegistration(X509Certificate2 certificate) => _store.Find(certificate);

    /// <summary>The response held for a registered certificate, whatever its status, when it is valid at <paramref name="now"/>: a proxy's hit, with no state object made.</summary>
    internal OcspStaple? ValidResponse(X509Certificate2 certificate, DateTimeOffset now) =>
        _store.Find(certificate)?.State.Staple is { } held && held.IsValidAt(now) ? held : null;

    /// <summary>The response held for a registered CertID when it is valid at <paramref name="now"/> (see <see cref="ValidResponse(X509Certificate2, DateTimeOffset)"/>).</summary>
    internal OcspStaple? ValidResponse(OcspCertificateId certificateId, DateTimeOffset now) =>
        _store.Find(certificateId)?.State.Staple is { } held && held.IsValidAt(now) ? held : null;

    private Registration Find(X509Certificate2 certificate) =>
        _store.Find(certificate) ?? throw new InvalidOperationException($"Certificate {CertificateNames.DisplayName(certificate)} is not registered for OCSP stapling.");

    private void OnExpired(Registration registration, OcspStaple staple)
    {
        Log.StapleExpired(_logger, registration.DisplayName, staple.NextUpdate);
        if (registration.Certificate is { } leaf)
        {
            _events.Removed(new OcspStapleRemovedEventArgs(leaf, staple, OcspStapleRemovalReason.Expired));
        }
    }
}
