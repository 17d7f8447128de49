using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Ocsp.Stapling.Internal;

namespace Ocsp.Stapling;

/// <summary>Registers OCSP stapling: the provider (<see cref="IOcspResponseProvider"/>, <see cref="IOcspCertificateRegistry"/>), its refresh scheduler, its HTTP client and the TLS component (<see cref="OcspStaplingContexts"/>).</summary>
public static class OcspStaplingServiceCollectionExtensions
{
    /// <summary>Adds OCSP stapling with default options.</summary>
    /// <param name="services">The service collection.</param>
    /// <returns>A builder for certificates, cache backend and HTTP client.</returns>
    public static IOcspStaplingBuilder AddOcspStapling(this IServiceCollection services) => AddOcspStapling(services, static _ => { });

    /// <summary>Adds OCSP stapling with options bound from a configuration section (for example <c>"OcspStapling"</c>).</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The section holding <see cref="OcspStaplingOptions"/> values.</param>
    /// <returns>A builder for certificates, cache backend and HTTP client.</returns>
    public static IOcspStaplingBuilder AddOcspStapling(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        IOcspStaplingBuilder builder = AddOcspStapling(services, static _ => { });
        services.Configure<OcspStaplingOptions>(configuration);
        return builder;
    }

    /// <summary>Adds OCSP stapling and configures its options in code.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets options.</param>
    /// <returns>A builder for certificates, cache backend and HTTP client.</returns>
    public static IOcspStaplingBuilder AddOcspStapling(this IServiceCollection services, Action<OcspStaplingOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.Configure(configure);

        // Every overload lands here; calling AddOcspStapling twice keeps one provider and one scheduler.
        var selection = (OcspCacheSelection?)services.FirstOrDefault(d => d.ServiceType == typeof(OcspCacheSelection))?.ImplementationInstance;
        if (selection is null)
        {
            selection = new OcspCacheSelection();
            services.AddSingleton(selection);
            AddCore(services);
        }

        return new OcspStaplingBuilder(services, selection);
    }

    private static void AddCore(IServiceCollection services)
    {
        services.AddOptions<OcspStaplingOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<OcspStaplingOptions>, OcspStaplingOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.AddHttpClient(OcspFetchOptions.HttpClientName, static client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(static () => new SocketsHttpHandler
            {
                // SocketsHttpHandler follows redirects to http(s) only, and never from https to http.
                AllowAutoRedirect = true,
                MaxAutomaticRedirections = 3,
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            });
        services.TryAddSingleton<OcspStartupCertificates>();
        services.TryAddSingleton(static sp =>
        {
            OcspStaplingOptions options = sp.GetRequiredService<IOptions<OcspStaplingOptions>>().Value;
            TimeProvider time = sp.GetRequiredService<TimeProvider>();
            var selection = sp.GetRequiredService<OcspCacheSelection>();
            var cache = selection.Factory is { } factory
                ? factory(sp)
                : new FileSystemDistributedCache(options.CacheDirectory ?? DefaultCacheDirectory(), time);
            ILogger logger = sp.GetService<ILoggerFactory>()?.CreateLogger("Ocsp.Stapling") ?? NullLogger.Instance;
            var fetcher = new OcspFetcher(sp.GetRequiredService<IHttpClientFactory>(), time, options);
            return new OcspResponseProvider(fetcher, options, time, cache, logger, sp.GetService<IMeterFactory>());
        });
        services.TryAddSingleton<IOcspResponseProvider>(static sp => sp.GetRequiredService<OcspResponseProvider>());
        services.TryAddSingleton<IOcspCertificateRegistry>(static sp => sp.GetRequiredService<OcspResponseProvider>());
        services.TryAddSingleton(static sp => new OcspStaplingContexts(
            sp.GetRequiredService<IOcspCertificateRegistry>(),
            sp.GetRequiredService<IOcspResponseProvider>(),
            sp.GetService<ILoggerFactory>()?.CreateLogger("Ocsp.Stapling.Tls") ?? NullLogger.Instance,
            OcspStaplingSupport.UnsupportedReason));

        // In this order: the scheduler loads the shared cache, then the TLS component checks what start-up requires.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, OcspRefreshService>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, OcspStaplingStartupService>());
    }

    private static string DefaultCacheDirectory()
    {
        string root = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create);
        return Path.Combine(string.IsNullOrEmpty(root) ? Path.GetTempPath() : root, "ocsp-stapling-cache");
    }
}
