using Microsoft.Extensions.Hosting;

namespace Ocsp.Stapling.Internal;

/// <summary>
/// Start-up of the TLS component, after the refresh service has loaded the shared cache and before the server accepts
/// connections (hosted services start in order, the web server last): must-staple checks and required staples.
/// </summary>
internal sealed class OcspStaplingStartupService(OcspStaplingContexts contexts) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => contexts.StartAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
