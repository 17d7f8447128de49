using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Ocsp.Stapling.Testing;

/// <summary>
/// A CRL distribution point on 127.0.0.1 (ephemeral port): serves <see cref="Crl"/> at <see cref="Url"/> over HTTP, or
/// 503 while <see cref="Down"/>; counts the requests.
/// </summary>
public sealed class TestCrlServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _requests;

    private TestCrlServer(WebApplication app, Uri url)
    {
        _app = app;
        Url = url;
    }

    /// <summary>Gets the CRL's URL (<c>http://127.0.0.1:PORT/ca.crl</c>).</summary>
    public Uri Url { get; }

    /// <summary>Gets or sets the bytes served.</summary>
    public byte[] Crl { get; set; } = [];

    /// <summary>Gets or sets a value indicating whether the server answers 503.</summary>
    public bool Down { get; set; }

    public int RequestCount => Volatile.Read(ref _requests);

    public static async Task<TestCrlServer> StartAsync()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        WebApplication app = builder.Build();
        TestCrlServer? server = null;
        app.Run(async context =>
        {
            Interlocked.Increment(ref server!._requests);
            if (server.Down || context.Request.Path != "/ca.crl")
            {
                context.Response.StatusCode = server.Down ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status404NotFound;
                return;
            }

            byte[] body = server.Crl;
            context.Response.ContentType = "application/pkix-crl";
            context.Response.ContentLength = body.Length;
            await context.Response.Body.WriteAsync(body).ConfigureAwait(false);
        });
        await app.StartAsync().ConfigureAwait(false);
        string address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        server = new TestCrlServer(app, new Uri(address.TrimEnd('/') + "/ca.crl"));
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
