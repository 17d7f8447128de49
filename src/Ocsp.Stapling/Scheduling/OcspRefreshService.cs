using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Ocsp.Stapling.Internal;

/// <summary>
/// The refresh scheduler: at start, serves what the shared cache holds and fetches every registered certificate eagerly;
/// then refreshes each one when due and reports staples reaching nextUpdate. All time through <see cref="TimeProvider"/>.
/// </summary>
internal sealed class OcspRefreshService : BackgroundService
{
    private readonly OcspResponseProvider _provider;
    private readonly OcspStartupCertificates _startup;
    private readonly ILogger<OcspRefreshService> _logger;

    public OcspRefreshService(OcspResponseProvider provider, OcspStartupCertificates startup, ILogger<OcspRefreshService> logger)
    {
        _provider = provider;
        _startup = startup;
        _logger = logger;
    }

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        _startup.RegisterAll(_provider);

        // Before the server takes connections: whatever the shared cache holds is stapled from the first handshake.
        await _provider.WarmUpAsync(cancellationToken).ConfigureAwait(false);
        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await _provider.RunDueAsync(stoppingToken).ConfigureAwait(false);
                await _provider.WaitForWorkAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // The scheduler outlives any single failure.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.SchedulerError(_logger, ex);
            }
        }
    }
}
