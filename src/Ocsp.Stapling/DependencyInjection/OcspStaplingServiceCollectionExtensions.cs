using System.Diagnostics.Metrics;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Ocsp.Stapling;
using Ocsp.Stapling.Internal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Registers OCSP stapling: the provider (<see cref="IOcspResponseProvider"/>, <see cref="OcspCertificateRegistry"/>),
/// its refresh scheduler, its HTTP client and the TLS component (<see cref="OcspStaplingContexts"/>). In the namespace of
/// <see cref="IServiceCollection"/>, as .NET's own <c>AddXxx</c> methods are: no <c>using</c> is needed.
/// </summary>
public static class OcspStaplingServiceCollectionExtensions
{
    /// <summary>Adds OCSP stapling with default options.</summary>
    /// <param name="services">The service collection.</param>
    /// <returns>A builder for certificates, cache backend and HTTP client.</returns>
    public static IOcspStaplingBuilder AddOcspStapling(this IServiceCollection services) => AddOcspStapling(services, static _ => { });

    /// <summary>Adds OCSP stapling with options bound from a configuration section (for example <c>"OcspStapling"</c>; keys as in <see cref="OcspStaplingOptions"/>).</summary>
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
        if (!services.Any(static d => d.ServiceType == typeof(OcspResponseProvider)))
        {
            AddCore(services);
        }

        return new OcspStaplingBuilder(services);
    }

    private static void AddCore(IServiceCollection services)
    {
        services.AddOptions<OcspStaplingOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<OcspStaplingOptions>, OcspStaplingOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.AddHttpClient(OcspFetchOptions.HttpClientName, static client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(static sp => OutboundProxy.CreateHandler(Options(sp).Fetch.Proxy))
            // Every fetch already logs one line (event 1 or 2, with the responder and the duration); the client's own
            // four lines per request are off. An application turns them back on with ConfigureHttpClient(c => c.AddDefaultLogger()).
            .RemoveAllLoggers();

        // The shared store (L2): one keyed service, whatever the backend (see OcspStaplingServiceKeys.SharedCache).
        services.TryAddKeyedSingleton<IDistributedCache>(OcspStaplingServiceKeys.SharedCache, static (sp, _) => FileSystemCache(sp, directory: null));

        // The provider, one singleton per job, each given the options group it needs: store (L1), shared-cache access
        // (L2), scheduler, fetcher, refresh, façade.
        services.TryAddSingleton(static sp => new OcspNotifications(ProviderLogger(sp)));
        services.TryAddSingleton(static sp => new RegistrationStore(Time(sp), Options(sp).StapleRevoked));
        services.TryAddSingleton(static sp => new OcspStaplingMetrics(sp.GetService<IMeterFactory>()));
        services.TryAddSingleton(static sp => new RegistrationGauges(
            sp.GetRequiredService<OcspStaplingMetrics>(), sp.GetRequiredService<RegistrationStore>(), Time(sp), Options(sp).PerCertificateMetrics));
        services.TryAddSingleton(static sp => new RefreshScheduler(Time(sp)));
        services.TryAddSingleton(static sp => new OcspFetcher(
            sp.GetRequiredService<IHttpClientFactory>(), Time(sp), Options(sp).Fetch, Options(sp).Validation));
        services.TryAddSingleton(static sp => new ClockStepWatch(
            Time(sp), sp.GetRequiredService<RegistrationStore>(), sp.GetRequiredService<RefreshScheduler>(), ProviderLogger(sp)));
        services.TryAddSingleton(static sp => new SharedStapleCache(
            sp.GetRequiredKeyedService<IDistributedCache>(OcspStaplingServiceKeys.SharedCache),
            Options(sp).SharedStore,
            Options(sp).Validation,
            Time(sp),
            ProviderLogger(sp),
            sp.GetRequiredService<OcspStaplingMetrics>()));
        services.TryAddSingleton(static sp => new AnswerFetcher(
            sp.GetRequiredService<OcspFetcher>(), sp.GetRequiredService<OcspStaplingMetrics>(), Options(sp).Validation, Time(sp), ProviderLogger(sp)));
        services.TryAddSingleton(static sp => new RefreshReporter(
            sp.GetRequiredService<RegistrationStore>(), sp.GetRequiredService<OcspNotifications>(), sp.GetRequiredService<OcspStaplingMetrics>(), ProviderLogger(sp)));
        services.TryAddSingleton(static sp => new StapleRefresher(
            sp.GetRequiredService<RegistrationStore>(),
            sp.GetRequiredService<SharedStapleCache>(),
            sp.GetRequiredService<RefreshScheduler>(),
            sp.GetRequiredService<AnswerFetcher>(),
            sp.GetRequiredService<RefreshReporter>(),
            Options(sp).Refresh,
            Time(sp)));
        services.TryAddSingleton(static sp => new OneShotAnswers(
            sp.GetRequiredService<RegistrationStore>(),
            sp.GetRequiredService<SharedStapleCache>(),
            sp.GetRequiredService<AnswerFetcher>(),
            Options(sp).Fetch,
            Time(sp),
            ProviderLogger(sp)));
        services.TryAddSingleton(static sp =>
        {
            _ = sp.GetRequiredService<RegistrationGauges>(); // the gauges live as long as the provider
            return new OcspResponseProvider(
                sp.GetRequiredService<RegistrationStore>(),
                sp.GetRequiredService<RefreshScheduler>(),
                sp.GetRequiredService<StapleRefresher>(),
                sp.GetRequiredService<OneShotAnswers>(),
                sp.GetRequiredService<OcspNotifications>(),
                sp.GetRequiredService<OcspStaplingMetrics>(),
                Options(sp).Fetch,
                Options(sp).Refresh,
                Time(sp),
                ProviderLogger(sp));
        });
        services.TryAddSingleton<IOcspResponseProvider>(static sp => sp.GetRequiredService<OcspResponseProvider>());
        services.TryAddSingleton<OcspCertificateRegistry>(static sp => sp.GetRequiredService<OcspResponseProvider>());
        services.TryAddSingleton(static sp => new ClientCertificateValidator(
            sp.GetRequiredService<OcspResponseProvider>(),
            Options(sp).Fetch,
            Options(sp).ClientCertificates,
            sp.GetRequiredService<OcspStaplingMetrics>(),
            Time(sp),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger("Ocsp.Stapling.ClientCertificates"),
            new ClientCrls(
                sp.GetRequiredService<OcspFetcher>(),
                sp.GetRequiredService<SharedStapleCache>(),
                Options(sp).Validation,
                Options(sp).ClientCertificates,
                Time(sp),
                sp.GetRequiredService<ILoggerFactory>().CreateLogger("Ocsp.Stapling.ClientCertificates"),
                sp.GetRequiredService<OcspStaplingMetrics>())));
        services.TryAddSingleton<OcspClientCertificateValidator>(static sp => sp.GetRequiredService<ClientCertificateValidator>());
        services.TryAddSingleton(static sp => new OcspStaplingContexts(
            sp.GetRequiredService<OcspCertificateRegistry>(),
            sp.GetRequiredService<IOcspResponseProvider>(),
            sp.GetService<ILoggerFactory>()?.CreateLogger("Ocsp.Stapling.Tls") ?? NullLogger.Instance,
            StaplingSupport.Unsupported,
            Time(sp),
            Options(sp).Tls));

        // In this order: the configured certificates are registered, the refresh service loads the shared cache, then
        // the TLS component prepares its contexts and checks what start-up requires.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, OcspStartupCertificates>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, OcspRefreshService>(static sp => new OcspRefreshService(
            sp.GetRequiredService<RegistrationStore>(),
            sp.GetRequiredService<RefreshScheduler>(),
            sp.GetRequiredService<StapleRefresher>(),
            Options(sp).Refresh,
            Time(sp),
            sp.GetRequiredService<ClockStepWatch>(),
            sp.GetRequiredService<SharedStapleCache>(),
            Options(sp).Fetch.Proxy,
            ProviderLogger(sp))));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, OcspStaplingStartupService>());
    }

    /// <summary>The file-system store in <paramref name="directory"/>, else <see cref="OcspSharedStoreOptions.Directory"/>, else the default directory.</summary>
    internal static FileSystemDistributedCache FileSystemCache(IServiceProvider services, string? directory)
    {
        var cache = new FileSystemDistributedCache(directory ?? Options(services).SharedStore.Directory ?? DefaultCacheDirectory(), Time(services));
        try
        {
            cache.DeleteAbandonedWrites(); // what writers killed mid-write left behind
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A directory that cannot be listed fails its reads and writes as well, where it is logged.
        }

        return cache;
    }

    /// <summary>Where the file-system store lives unless told otherwise: <c>ocsp-stapling-cache</c> under the local application data directory.</summary>
    internal static string DefaultCacheDirectory()
    {
        string root = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create);
        return Path.Combine(string.IsNullOrEmpty(root) ? Path.GetTempPath() : root, "ocsp-stapling-cache");
    }

    private static OcspStaplingOptions Options(IServiceProvider services) => services.GetRequiredService<IOptions<OcspStaplingOptions>>().Value;

    private static TimeProvider Time(IServiceProvider services) => services.GetRequiredService<TimeProvider>();

    private static ILogger ProviderLogger(IServiceProvider services) =>
        services.GetService<ILoggerFactory>()?.CreateLogger("Ocsp.Stapling") ?? NullLogger.Instance;
}
