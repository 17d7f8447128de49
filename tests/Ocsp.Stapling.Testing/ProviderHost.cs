using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Ocsp.Stapling.Internal;

namespace Ocsp.Stapling.Testing;

/// <summary>Builds a provider through <c>AddOcspStapling()</c> with a fake clock; no jitter and no in-fetch retries unless asked.</summary>
internal sealed class ProviderHost : IDisposable
{
    private readonly ServiceProvider _services;

    public ProviderHost(FakeTimeProvider time, Action<IOcspStaplingBuilder> builder, Action<OcspStaplingOptions>? configure = null)
        : this((TimeProvider)time, builder, configure)
    {
    }

    /// <summary>A provider on any clock (a <see cref="SteppedClock"/> over a fake one, for wall-clock steps).</summary>
    public ProviderHost(TimeProvider time, Action<IOcspStaplingBuilder> builder, Action<OcspStaplingOptions>? configure = null)
    {
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Trace).AddProvider(Logs));
        services.AddSingleton<TimeProvider>(time);
        builder(services.AddOcspStapling(options =>
        {
            options.Jitter = 0;
            options.Fetch.MaxRetryAttempts = 0;
            configure?.Invoke(options);
        }));
        _services = services.BuildServiceProvider();
        Provider = _services.GetRequiredService<OcspResponseProvider>();
    }

    public LogCapture Logs { get; } = new();

    public OcspResponseProvider Provider { get; }

    public IServiceProvider Services => _services;

    public OcspCertificateState State => Provider.GetStates().Single();

    public void Dispose() => _services.Dispose();
}
