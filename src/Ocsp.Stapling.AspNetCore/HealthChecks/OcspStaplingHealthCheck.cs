using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Ocsp.Stapling.AspNetCore.Internal;

/// <summary>
/// Per-certificate stapling health; the worst certificate decides the status. Certificates a caching proxy registered by
/// CertID are not the server's own and are left out: a client asking about a revoked stranger must not make it unhealthy.
/// </summary>
internal sealed class OcspStaplingHealthCheck(
    IOcspCertificateRegistry registry, OcspStaplingHealthCheckOptions options, TimeProvider time, OcspStaplingContexts contexts) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        DateTimeOffset now = time.GetUtcNow();
        HealthStatus failure = context.Registration?.FailureStatus ?? HealthStatus.Unhealthy;
        OcspCertificateState[] states = [.. registry.GetStates().Where(s => s.Certificate is not null)];
        var data = new Dictionary<string, object>(StringComparer.Ordinal);
        var problems = new List<string>();
        HealthStatus worst = HealthStatus.Healthy;

        // Off matters only where the TLS component serves certificates (Kestrel, SslStream); a proxy or file exporter does not staple itself.
        string? unsupported = contexts.Certificates.Count > 0 ? contexts.UnsupportedReason : null;
        data["tls-stapling"] = unsupported is null ? "on" : "off: " + unsupported;
        if (unsupported is not null)
        {
            bool mustStaple = states.Any(s => s.IsMustStaple);
            worst = mustStaple ? failure : HealthStatus.Degraded;
            problems.Add("TLS stapling is off: " + unsupported);
        }

        foreach (OcspCertificateState state in states)
        {
            (HealthStatus status, string summary) = Assess(state, now, failure);
            string name = state.DisplayName;
            data[name] = summary;
            if (status != HealthStatus.Healthy)
            {
                problems.Add(name + ": " + summary);
                worst = worst < status ? worst : status; // HealthStatus: Unhealthy < Degraded < Healthy
            }
        }

        string description = problems.Count == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{states.Length} certificate(s) stapled or without a responder")
            : string.Join("; ", problems);
        return Task.FromResult(new HealthCheckResult(worst, description, data: data));
    }

    private (HealthStatus Status, string Summary) Assess(OcspCertificateState state, DateTimeOffset now, HealthStatus failure) =>
        OcspCertificateHealth.Assess(state, now, options.DegradedRemainingValidity, failure);
}
