using Microsoft.AspNetCore.Server.Kestrel;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Ocsp.Stapling;
using Ocsp.Stapling.AspNetCore;
using Ocsp.Stapling.AspNetCore.Internal;

namespace Microsoft.AspNetCore.Hosting;

/// <summary>OCSP stapling for the HTTPS endpoints Kestrel builds from configuration (<c>appsettings.json</c>).</summary>
public static class OcspStaplingKestrelServerOptionsExtensions
{
    /// <summary>
    /// Staples every HTTPS endpoint of Kestrel's configuration section (<c>Kestrel:Endpoints</c>), with the endpoint's own
    /// certificate or <c>Kestrel:Certificates:Default</c>: PEM (<c>Path</c> + <c>KeyPath</c>) and PFX (<c>Path</c> +
    /// <c>Password</c>) files are watched and renewed files served once stapled; a certificate from the store is stapled
    /// as loaded. Each certificate is prepared before the endpoint listens. The endpoint's <c>SslProtocols</c>,
    /// <c>ClientCertificateMode</c> and Kestrel's HTTPS defaults (<c>ConfigureHttpsDefaults</c>) apply as without stapling.
    /// Call it in <c>ConfigureKestrel</c>, after any <c>Configure(…)</c> of your own.
    /// </summary>
    /// <remarks>
    /// Not covered, and served by Kestrel without stapling: endpoints with an <c>Sni</c> section (a warning is logged),
    /// endpoints whose name first appears in a configuration reload (stapled from the next start), and encrypted PEM
    /// keys (<c>KeyPath</c> with <c>Password</c>), which are stapled but not watched for renewal. With
    /// <c>reloadOnChange</c>, a changed endpoint is stapled again as Kestrel rebinds it.
    /// </remarks>
    /// <param name="options">Kestrel's options.</param>
    /// <param name="configure">Adjusts the stapling options of each endpoint (its name is in the log).</param>
    /// <returns>Kestrel's options.</returns>
    /// <exception cref="InvalidOperationException"><c>AddOcspStapling()</c> was not called.</exception>
    public static KestrelServerOptions UseOcspStapling(this KestrelServerOptions options, Action<OcspStaplingHttpsOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        IServiceProvider services = options.ApplicationServices
            ?? throw new InvalidOperationException("Kestrel's options have no application services yet: call UseOcspStapling() inside ConfigureKestrel.");
        OcspStaplingContexts contexts = services.GetService<OcspStaplingContexts>()
            ?? throw new InvalidOperationException("OCSP stapling in Kestrel needs the provider: call services.AddOcspStapling() when configuring services.");
        KestrelConfigurationLoader loader = options.ConfigurationLoader
            ?? options.Configure(services.GetRequiredService<IConfiguration>().GetSection("Kestrel"), reloadOnChange: true);
        ILogger logger = services.GetService<ILoggerFactory>()?.CreateLogger("Ocsp.Stapling.AspNetCore.Kestrel") ?? NullLogger.Instance;
        string contentRoot = services.GetService<IHostEnvironment>()?.ContentRootPath ?? Directory.GetCurrentDirectory();
        new ConfiguredEndpointStapling(loader, contexts, contentRoot, logger, configure).Attach();
        return options;
    }
}
