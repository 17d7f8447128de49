using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Ocsp.Stapling.Internal;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tests;

/// <summary>A test responder on 127.0.0.1 and a PKI whose leaves point at it (per test class; tests call <see cref="Reset"/>).</summary>
public sealed class ResponderFixture : IAsyncLifetime
{
    public TestOcspResponder Responder { get; private set; } = null!;

    public TestPki Pki { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Responder = await TestOcspResponder.StartAsync();
        Pki = TestPki.Create(Responder.Url, FakeTimeProvider.DefaultStart);
        Responder.AddIssuer(Pki.Intermediate);
    }

    public async Task DisposeAsync()
    {
        await Responder.DisposeAsync();
        Pki.Dispose();
    }

    public FakeTimeProvider Reset()
    {
        var time = new FakeTimeProvider();
        Responder.Reset(time);
        return time;
    }
}

/// <summary>Builds a provider through <c>AddOcspStapling()</c> with a fake clock; no jitter and no in-fetch retries unless asked.</summary>
internal sealed class ProviderHost : IDisposable
{
    private readonly ServiceProvider _services;

    public ProviderHost(FakeTimeProvider time, Action<IOcspStaplingBuilder> builder, Action<OcspStaplingOptions>? configure = null)
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

    public OcspCertificateState State => Assert.Single(Provider.GetStates());

    public void Dispose() => _services.Dispose();
}
