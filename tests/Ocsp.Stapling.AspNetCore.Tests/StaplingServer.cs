using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Ocsp.Stapling.AspNetCore;
using Ocsp.Stapling.Internal;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.AspNetCore.Tests;

/// <summary>A real Kestrel on 127.0.0.1 (ephemeral port) with <c>AddOcspStapling()</c> on a fake clock and an HTTPS endpoint configured by the test.</summary>
internal sealed class StaplingServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private StaplingServer(WebApplication app, LogCapture logs)
    {
        _app = app;
        Logs = logs;
        string address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        Port = new Uri(address).Port;
    }

    public int Port { get; }

    public LogCapture Logs { get; }

    public IServiceProvider Services => _app.Services;

    public IOcspResponseProvider Provider => Services.GetRequiredService<IOcspResponseProvider>();

    public OcspCertificateRegistry Registry => Services.GetRequiredService<OcspCertificateRegistry>();

    public OcspStaplingContexts Contexts => Services.GetRequiredService<OcspStaplingContexts>();

    public static Task<StaplingServer> StartAsync(
        FakeTimeProvider time,
        string cacheDirectory,
        Action<ListenOptions> https,
        Action<OcspStaplingOptions>? configure = null,
        Action<IServiceCollection>? services = null,
        Action<WebApplication>? map = null) =>
        StartAsync(
            time,
            cacheDirectory,
            configure,
            builder =>
            {
                services?.Invoke(builder.Services);
                builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, https));
            },
            map);

    /// <summary>
    /// Kestrel as most apps configure it: <c>CreateSlimBuilder</c> with Kestrel's HTTPS configuration, the endpoints in
    /// the <c>Kestrel</c> configuration section (<paramref name="configuration"/>, in memory), and <c>UseOcspStapling()</c>.
    /// </summary>
    public static Task<StaplingServer> StartConfiguredAsync(
        FakeTimeProvider time, string cacheDirectory, IDictionary<string, string?> configuration, Action<OcspStaplingOptions>? configure = null) =>
        StartAsync(time, cacheDirectory, configure, builder =>
        {
            builder.WebHost.UseKestrelHttpsConfiguration();
            builder.Configuration.AddInMemoryCollection(configuration);
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.UseOcspStapling());
        });

    /// <summary>A TCP port free on 127.0.0.1 a moment ago: for endpoints that must keep their port across a rebind.</summary>
    public static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Configuration reloads from the test (a changed appsettings.json): Kestrel rebinds the changed endpoints.</summary>
    public void ReloadConfiguration() => ((IConfigurationRoot)_app.Configuration).Reload();

    public IConfiguration Configuration => _app.Configuration;

    /// <summary>Completes when the provider registers <paramref name="certificate"/> (already registered: at once).</summary>
    public Task WhenRegisteredAsync(X509Certificate2 certificate) => WhenRegistrationAsync(certificate, registered: true);

    /// <summary>Completes when the provider unregisters <paramref name="certificate"/> (a rotation's last step).</summary>
    public Task WhenUnregisteredAsync(X509Certificate2 certificate) => WhenRegistrationAsync(certificate, registered: false);

    /// <summary>Serves <paramref name="leaf"/> with its chain and waits until its first staple is in the context.</summary>
    public static async Task<StaplingServer> StartStapledAsync(
        FakeTimeProvider time,
        string cacheDirectory,
        X509Certificate2 leaf,
        X509Certificate2Collection chain,
        Action<IServiceCollection>? services = null,
        Action<OcspStaplingHttpsOptions>? configure = null)
    {
        StaplingServer server = await StartAsync(time, cacheDirectory, l => l.UseHttpsWithOcspStapling(leaf, chain, configure), services: services);
        await server.WaitUntilAsync(() => server.StapledBytes(leaf) is not null, "first staple");
        return server;
    }

    /// <summary>The bytes Kestrel staples now for <paramref name="certificate"/> (null when none).</summary>
    public byte[]? StapledBytes(X509Certificate2 certificate) =>
        Contexts.Certificates.FirstOrDefault(c => c.Certificate.RawDataMemory.Span.SequenceEqual(certificate.RawDataMemory.Span)) is { IsStapling: true } entry
            ? SslContextFields.AppliedResponse(entry.Context)
            : null;

    /// <summary>Waits (on provider events, no polling) until <paramref name="condition"/> holds, up to 30 s.</summary>
    public async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var signal = new SemaphoreSlim(0);
        void OnChange(object? sender, EventArgs e) => signal.Release();
        Registry.StapleUpdated += OnChange;
        Registry.StapleFailed += OnChange;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            while (!condition())
            {
                try
                {
                    await signal.WaitAsync(timeout.Token);
                }
                catch (OperationCanceledException)
                {
                    throw new TimeoutException($"Timed out waiting for: {what}");
                }
            }
        }
        finally
        {
            Registry.StapleUpdated -= OnChange;
            Registry.StapleFailed -= OnChange;
        }
    }

    private static async Task<StaplingServer> StartAsync(
        FakeTimeProvider time, string cacheDirectory, Action<OcspStaplingOptions>? configure, Action<WebApplicationBuilder> endpoints, Action<WebApplication>? map = null)
    {
        var logs = new LogCapture();
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        builder.Logging.AddProvider(logs);
        builder.Services.AddSingleton<TimeProvider>(time);
        builder.Services.AddOcspStapling(options =>
        {
            options.Refresh.Jitter = 0;
            options.Fetch.Retry.MaxAttempts = 0;
            options.SharedStore.Directory = cacheDirectory;
            configure?.Invoke(options);
        });
        endpoints(builder);
        WebApplication app = builder.Build();
        app.MapGet("/", () => "stapled");
        map?.Invoke(app);
        await app.StartAsync();
        return new StaplingServer(app, logs);
    }

    private async Task WhenRegistrationAsync(X509Certificate2 certificate, bool registered)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnRegistered(object? sender, OcspCertificateEventArgs e)
        {
            if (registered && e.Certificate.RawDataMemory.Span.SequenceEqual(certificate.RawDataMemory.Span))
            {
                done.TrySetResult();
            }
        }

        void OnUnregistered(object? sender, OcspCertificateEventArgs e)
        {
            if (!registered && e.Certificate.RawDataMemory.Span.SequenceEqual(certificate.RawDataMemory.Span))
            {
                done.TrySetResult();
            }
        }

        Registry.CertificateRegistered += OnRegistered;
        Registry.CertificateUnregistered += OnUnregistered;
        try
        {
            if ((Registry.GetState(certificate) is not null) == registered)
            {
                return;
            }

            await done.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            Registry.CertificateRegistered -= OnRegistered;
            Registry.CertificateUnregistered -= OnUnregistered;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
