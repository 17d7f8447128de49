using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Ocsp.Stapling;
using Ocsp.Stapling.AspNetCore;
using Ocsp.Stapling.AspNetCore.Internal;
using Ocsp.Stapling.Internal;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the caching OCSP proxy endpoint.</summary>
public static class OcspProxyEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps a caching OCSP proxy at <paramref name="pattern"/>: OCSP over POST and GET (RFC 6960 A.1, RFC 5019) answered
    /// from the validated store of <c>AddOcspStapling()</c>, upstream only to allowed responders, with RFC 5019 cache headers.
    /// Point Apache (<c>SSLStaplingForceURL</c> or <c>SSLOCSPProxyURL</c>), nginx (<c>ssl_stapling_responder</c>) or any
    /// OCSP client at it.
    /// </summary>
    /// <param name="endpoints">The route builder.</param>
    /// <param name="pattern">
    /// The path of the responder, e.g. <c>/</c> or <c>/ocsp</c>. GET requests are served below it; POST requests at it and
    /// below it (a client may keep its responder's path, and HTTP-proxy-form requests carry the responder's URL).
    /// </param>
    /// <param name="configure">Configures the proxy (allowed responders, limits, prune policy).</param>
    /// <returns>A builder for the proxy's endpoint.</returns>
    public static IEndpointConventionBuilder MapOcspProxy(
        this IEndpointRouteBuilder endpoints, [StringSyntax("Route")] string pattern = "/", Action<OcspProxyOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        OcspProxy proxy = CreateProxy(endpoints.ServiceProvider, pattern, configure);

        // One endpoint for both methods, below the pattern: GET carries the request in the path, and a POST may name a
        // responder's path (ocsp_proxy clients, or an HTTP-proxy-form request such as Apache's SSLOCSPProxyURL sends).
        return endpoints.MapMethods(pattern.TrimEnd('/') + "/{**ocspRequest}", [HttpMethods.Get, HttpMethods.Post], proxy.HandleAsync)
            .WithDisplayName("OCSP proxy");
    }

    /// <summary>
    /// The proxy at <paramref name="pattern"/> over the provider of <c>AddOcspStapling()</c>, its options validated,
    /// disposed when the application stops: the endpoint's, or the whole application of <c>ocsp-stapling serve</c>
    /// (<see cref="OcspProxy.HandleAsApplicationAsync"/>).
    /// </summary>
    internal static OcspProxy CreateProxy(IServiceProvider services, string pattern, Action<OcspProxyOptions>? configure)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pattern);
        if (!pattern.StartsWith('/') || pattern.Contains('{', StringComparison.Ordinal))
        {
            throw new ArgumentException($"The OCSP proxy pattern must be a literal path starting with '/', not '{pattern}'.", nameof(pattern));
        }

        OcspResponseProvider registry = services.GetService<OcspResponseProvider>()
            ?? throw new InvalidOperationException("MapOcspProxy needs the OCSP provider: call builder.Services.AddOcspStapling() first.");
        var options = new OcspProxyOptions();
        configure?.Invoke(options);
        OptionsCheck.Validated(new OcspProxyOptionsValidator(), options);

        var proxy = new OcspProxy(
            registry,
            services.GetRequiredService<IHttpClientFactory>(),
            options,
            services.GetService<TimeProvider>() ?? TimeProvider.System,
            services.GetRequiredService<ILoggerFactory>().CreateLogger("Ocsp.Stapling.AspNetCore.OcspProxy"),
            services.GetService<IMeterFactory>(),
            new PathString(pattern.TrimEnd('/')));
        services.GetService<IHostApplicationLifetime>()?.ApplicationStopped.Register(proxy.Dispose); // its forget sweep and summary timers

        return proxy;
    }
}
