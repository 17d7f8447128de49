using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Ocsp.Stapling.AspNetCore.Internal;

/// <summary>
/// Per-certificate stapling health; the worst certificate decides the status. Certificates a caching proxy registered by
/// CertID are not the server's own and are left out: a client asking about a revoked stranger must not make it unhealthy.
/// </summary>
internal sealed class OcspStaplingHealthCheck(
    OcspCertificateRegistry registry, OcspStaplingHealthCheckOptions options, TimeProvider time, OcspStaplingContexts contexts) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        HealthStatus failure = context.Registration?.FailureStatus ?? HealthStatus.Unhealthy;
        OcspStaplingStatusReport report = OcspStaplingStatusReport.Create(
            registry.GetStates().Where(s => s.Certificate is not null), contexts, time, options.DegradedRemainingValidity, failure);
        var data = new Dictionary<string, object>(StringComparer.Ordinal);
        var problems = new List<string>();

        // Off matters only where the TLS component serves certificates (Kestrel, SslStream); a proxy or file exporter does not staple itself.
        string? unsupported = report.TlsInUse ? report.TlsUnsupportedReason : null;
        data["tls-stapling"] = unsupported is null ? "on" : "off: " + unsupported;
        if (unsupported is not null)
        {
            problems.Add("TLS stapling is off: " + unsupported);
        }

        foreach (OcspStaplingStatusReport.Row row in report.Rows)
        {
            data[row.Name] = row.Summary;
            if (row.Health != HealthStatus.Healthy)
            {
                problems.Add(row.Name + ": " + row.Summary);
            }
        }

        string description = problems.Count == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{report.Rows.Count} certificate(s) stapled or without a responder")
            : string.Join("; ", problems);
        return Task.FromResult(new HealthCheckResult(report.Status, description, data: data));
    }
}
