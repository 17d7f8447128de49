using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Ocsp.Stapling.Internal;

/// <summary>
/// The refresh loop: at start, serves what the shared cache holds for every registered certificate; then takes
/// each registration from the <see cref="RefreshScheduler"/> as it falls due and refreshes it, at most
/// <see cref="OcspRefreshOptions.MaxParallelFetches"/> at once, with no batch barrier. All time through <see cref="TimeProvider"/>.
/// </summary>
internal sealed class OcspRefreshService : BackgroundService
{
    private readonly RegistrationStore _store;
    private readonly RefreshScheduler _scheduler;
    private readonly StapleRefresher _refresher;
    private readonly TimeProvider _time;
    private readonly int _parallelism;
    private readonly ClockStepWatch _clockWatch;
    private readonly SharedStapleCache _shared;
    private readonly OcspOutboundProxyOptions _proxy;
    private readonly ILogger _logger;

    public OcspRefreshService(
        RegistrationStore store,
        RefreshScheduler scheduler,
        StapleRefresher refresher,
        OcspRefreshOptions options,
        TimeProvider time,
        ClockStepWatch clockWatch,
        SharedStapleCache shared,
        OcspOutboundProxyOptions proxy,
        ILogger logger)
    {
        _shared = shared;
        _proxy = proxy;
        _logger = logger;
        _clockWatch = clockWatch;
        _store = store;
        _scheduler = scheduler;
        _refresher = refresher;
        _time = time;
        _parallelism = Math.Max(1, options.MaxParallelFetches);
    }

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // Said once: where a restart finds its staples.
        if (_shared.IsEnabled)
        {
            Log.SharedStoreInUse(_logger, _shared.Description);
        }
        else
        {
            Log.MemoryOnly(_logger);
        }

        // And how responders are reached, when not directly (a firewall's forward proxy).
        if (OutboundProxy.DescribeSetting(_proxy) is { } proxy)
        {
            Log.OutboundProxyInUse(_logger, proxy);
        }

        // Before the server takes connections: whatever the shared cache holds is stapled from the first handshake.
        // Bounded: a start-up list of many certificates must not open as many connections to the store at once. Their
        // refreshes are spread over their windows, so that responses fetched together are not all refreshed together.
        await Parallel.ForEachAsync(
            _store.All.Where(r => r.State.Staple is null),
            new ParallelOptions { MaxDegreeOfParallelism = _parallelism * 4, CancellationToken = cancellationToken },
            async (registration, token) => await _refresher.LoadFromCacheAsync(registration, token, spread: true).ConfigureAwait(false)).ConfigureAwait(false);
        _clockWatch.Start();
        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _clockWatch.Dispose();
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Not disposed: refreshes under way when the host stops still release their slot (they are bounded by the fetch timeout).
        var slots = new SemaphoreSlim(_parallelism);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await _scheduler.WaitAsync(stoppingToken).ConfigureAwait(false);
                while (true)
                {
                    await slots.WaitAsync(stoppingToken).ConfigureAwait(false);
                    if (!_scheduler.TryTakeDue(_time.GetUtcNow(), out Registration registration))
                    {
                        slots.Release();
                        break;
                    }

                    // A refresh never throws (StapleRefresher catches and reschedules); the slot is freed when it ends.
                    _ = _refresher.RefreshAsync(registration).ContinueWith(static (_, state) => ((SemaphoreSlim)state!).Release(), slots, TaskScheduler.Default);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }
}
