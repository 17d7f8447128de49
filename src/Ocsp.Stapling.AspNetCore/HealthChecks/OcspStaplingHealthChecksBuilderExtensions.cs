using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Ocsp.Stapling;
using Ocsp.Stapling.AspNetCore;
using Ocsp.Stapling.AspNetCore.Internal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the OCSP stapling health check.</summary>
public static class OcspStaplingHealthChecksBuilderExtensions
{
    /// <summary>The check's name unless another is given.</summary>
    internal const string DefaultName = OcspCertificateHealth.DefaultCheckName;

    /// <summary>
    /// Adds a check reporting, per registered certificate, whether a valid staple is held, its age, the time to its
    /// nextUpdate and the last failure. Unhealthy (<paramref name="failureStatus"/>): a must-staple certificate without a
    /// valid staple, a revoked certificate, or Kestrel stapling off with a must-staple certificate. Degraded: a staple
    /// close to expiry, a certificate with a responder but no staple, or Kestrel stapling off on this runtime.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The check name.</param>
    /// <param name="failureStatus">The status reported for failures; <see cref="HealthStatus.Unhealthy"/> when null.</param>
    /// <param name="tags">Tags for filtering.</param>
    /// <param name="configure">Adjusts the thresholds.</param>
    /// <returns>The builder.</returns>
    public static IHealthChecksBuilder AddOcspStapling(
        this IHealthChecksBuilder builder,
        string name = DefaultName,
        HealthStatus? failureStatus = null,
        IEnumerable<string>? tags = null,
        Action<OcspStaplingHealthCheckOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        OptionsBuilder<OcspStaplingHealthCheckOptions> options = builder.Services.AddOptions<OcspStaplingHealthCheckOptions>(name).ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<OcspStaplingHealthCheckOptions>, OcspStaplingHealthCheckOptionsValidator>());

        // One check instance per name, a DI singleton like the provider it reads.
        builder.Services.AddKeyedSingleton(name, static (sp, key) => new OcspStaplingHealthCheck(
            sp.GetService<OcspCertificateRegistry>()
                ?? throw new InvalidOperationException("The OCSP stapling health check needs the provider: call services.AddOcspStapling()."),
            sp.GetRequiredService<IOptionsMonitor<OcspStaplingHealthCheckOptions>>().Get((string)key!),
            sp.GetService<TimeProvider>() ?? TimeProvider.System,
            sp.GetRequiredService<OcspStaplingContexts>()));
        return builder.Add(new HealthCheckRegistration(
            name,
            sp => sp.GetRequiredKeyedService<OcspStaplingHealthCheck>(name),
            failureStatus,
            tags));
    }
}
