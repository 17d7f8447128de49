using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Ocsp.Stapling.AspNetCore.Internal;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.AspNetCore.Tests.Proxy;

/// <summary>
/// A Kestrel app on 127.0.0.1 (ephemeral port) with <c>AddOcspStapling()</c> and <c>MapOcspProxy</c>, or the proxy as the
/// whole application as <c>ocsp-stapling serve</c> runs it (<c>asApplication</c>: no routing).
/// </summary>
internal sealed class ProxyServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ProxyServer(WebApplication app, LogCapture logs, OcspProxy? proxy)
    {
        _app = app;
        Proxy = proxy;
        Logs = logs;
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        Url = new Uri(address.EndsWith('/') ? address : address + "/");
    }

    public Uri Url { get; }

    public int Port => Url.Port;

    public LogCapture Logs { get; }

    /// <summary>Gets the proxy when it runs as the application (its internals, for tests).</summary>
    public OcspProxy? Proxy { get; }

    public IOcspResponseProvider Provider => _app.Services.GetRequiredService<IOcspResponseProvider>();

    public OcspCertificateRegistry Registry => _app.Services.GetRequiredService<OcspCertificateRegistry>();

    public static async Task<ProxyServer> StartAsync(
        FakeTimeProvider time, string cacheDirectory, X509Certificate2 issuer, IEnumerable<X509Certificate2> certificates,
        string pattern = "/", Action<OcspProxyOptions>? configure = null, bool asApplication = false)
    {
        var logs = new LogCapture();
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders().SetMinimumLevel(LogLevel.Debug).AddProvider(logs);
        builder.Services.AddSingleton<TimeProvider>(time);
        IOcspStaplingBuilder stapling = builder.Services
            .AddOcspStapling(o =>
            {
                o.Refresh.Jitter = 0;
                o.Fetch.Retry.MaxAttempts = 0;
            })
            .UseFileSystemCache(cacheDirectory);
        foreach (X509Certificate2 certificate in certificates)
        {
            stapling.AddCertificate(certificate, issuer);
        }

        WebApplication app = builder.Build();
        OcspProxy? proxy = null;
        if (asApplication)
        {
            proxy = OcspProxyEndpointRouteBuilderExtensions.CreateProxy(app.Services, pattern, configure);
            app.Run(proxy.HandleAsApplicationAsync);
        }
        else
        {
            app.MapOcspProxy(pattern, configure);
        }

        await app.StartAsync();
        return new ProxyServer(app, logs, proxy);
    }

    /// <summary>Stops the server (requests under way finish first); disposing afterwards is fine.</summary>
    public Task StopAsync() => _app.StopAsync();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>Waits until the provider holds a staple for <paramref name="certificate"/> (the scheduler's eager fetch).</summary>
    public async Task<OcspStaple> StapleAsync(X509Certificate2 certificate, X509Certificate2 issuer)
    {
        Registry.Register(certificate, issuer);
        return await Provider.GetStapleAsync(certificate, issuer) ?? throw new InvalidOperationException("No staple.");
    }
}
