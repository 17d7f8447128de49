using System.Security.Cryptography.X509Certificates;

namespace Ocsp.Stapling.Internal;

/// <summary>Refreshes on request, prunes, and the start-up warm-up from the shared store.</summary>
internal sealed partial class OcspResponseProvider
{
    public override Task<OcspRefreshResult> RefreshAsync(X509Certificate2 certificate, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return RefreshAsync(Find(certificate), servePersisted: false, cancellationToken);
    }

    public override async Task<OcspStaple?> WarmUpAsync(X509Certificate2 certificate, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        Registration registration = Find(certificate);
        if (registration.State.Staple is null)
        {
            await _refresher.LoadFromCacheAsync(registration, cancellationToken).ConfigureAwait(false);
        }

        return TryGetCachedStaple(certificate, out OcspStaple? staple) ? staple : null;
    }

    public override async Task<bool> PruneAsync(X509Certificate2 certificate, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return _store.Find(certificate) is { } registration && await PruneAsync(registration, cancellationToken).ConfigureAwait(false);
    }

    private async Task<bool> PruneAsync(Registration registration, CancellationToken cancellationToken)
    {
        // A prune asks for a refetch and nothing more: the held response is served until a valid newer one replaces it,
        // at most one prune per certificate per MinimumPruneInterval, and never inside the failure back-off.
        string? refusal = RegistrationStore.TryRecordPrune(registration, _time.GetUtcNow(), _refresher.IsRefreshing(registration), _minimumPruneInterval);
        if (refusal is not null)
        {
            Log.PruneIgnored(_logger, registration.DisplayName, refusal);
            return false;
        }

        Log.StaplePruned(_logger, registration.DisplayName);
        await _refresher.RefreshAsync(registration).WaitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    private Task<OcspRefreshResult> RefreshAsync(Registration registration, bool servePersisted, CancellationToken cancellationToken)
    {
        // Inside the failure back-off nobody is asked: callers must not turn a responder outage into a request storm.
        // The decision reads one snapshot (failures and due time written together), and joins a refresh under way.
        RegistrationState state = registration.State;
        if (!_refresher.IsRefreshing(registration) && state.InBackoff(_time.GetUtcNow()))
        {
            return Task.FromResult(_refresher.ResultOf(state));
        }

        return _refresher.RefreshAsync(registration, servePersisted).WaitAsync(cancellationToken);
    }
}
