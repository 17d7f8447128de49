using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Ocsp.Stapling.Internal;

namespace Ocsp.Stapling.AspNetCore.Internal;

/// <summary>What the status page and the health response writer share: the report, with the health check's thresholds when registered.</summary>
internal static class OcspStaplingStatusEndpoint
{
    public static OcspStaplingStatusReport Report(IServiceProvider services)
    {
        TimeSpan degraded = services.GetService<IOptionsMonitor<OcspStaplingHealthCheckOptions>>()?.Get(OcspCertificateHealth.DefaultCheckName).DegradedRemainingValidity
            ?? new OcspStaplingHealthCheckOptions().DegradedRemainingValidity;
        return OcspStaplingStatusReport.Create(
            services.GetRequiredService<OcspCertificateRegistry>().GetStates(),
            services.GetService<OcspStaplingContexts>(),
            services.GetService<TimeProvider>() ?? TimeProvider.System,
            degraded,
            HealthStatus.Unhealthy,
            services.GetService<ClientCertificateValidator>());
    }
}
