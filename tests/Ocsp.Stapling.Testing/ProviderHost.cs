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
            options.Refresh.Jitter = 0;
            options.Fetch.Retry.MaxAttempts = 0;
            configure?.Invoke(options);
        }));
        _services = services.BuildServiceProvider();
        Provider = _services.GetRequiredService<OcspResponseProvider>();
    }

    public LogCapture Logs { get; } = new();

    public OcspResponseProvider Provider { get; }

    public IServiceProvider Services => _services;

    public OcspCertificateState State => Provider.GetStates().Single();

    /// <summary>The provider's meter and instruments.</summary>
    public OcspStaplingMetrics Metrics => _services.GetRequiredService<OcspStaplingMetrics>();

    /// <summary>Runs every refresh due now and waits for all of them: one pass of the scheduler, for tests driving a fake clock.</summary>
    public async Task RunDueAsync(CancellationToken cancellationToken)
    {
        var scheduler = _services.GetRequiredService<RefreshScheduler>();
        var refresher = _services.GetRequiredService<StapleRefresher>();
        var running = new List<Task>();
        DateTimeOffset now = _services.GetRequiredService<TimeProvider>().GetUtcNow();
        while (scheduler.TryTakeDue(now, out Registration registration))
        {
            cancellationToken.ThrowIfCancellationRequested();
            running.Add(refresher.RefreshAsync(registration));
        }

        await Task.WhenAll(running);
    }

    public void Dispose() => _services.Dispose();
}
