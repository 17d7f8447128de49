using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Ocsp.Stapling.Internal;

namespace Ocsp.Stapling.AspNetCore.Internal;

/// <summary>
/// Kestrel's configuration endpoints, stapled through the loader's supported seam: a named <see cref="EndpointConfiguration"/>
/// callback runs after Kestrel has loaded the endpoint's certificate and before it adds its own HTTPS adapter, and an
/// endpoint the callback makes TLS is left as it is. Each HTTPS endpoint gets <c>UseHttpsWithOcspStapling</c>.
/// </summary>
internal sealed class ConfiguredEndpointStapling(
    KestrelConfigurationLoader loader, OcspStaplingContexts contexts, string contentRoot, ILogger logger, Action<OcspStaplingHttpsOptions>? configure)
{
    private readonly Dictionary<string, object> _served = new(StringComparer.OrdinalIgnoreCase);

    public void Attach()
    {
        foreach (IConfigurationSection endpoint in loader.Configuration.GetSection("Endpoints").GetChildren())
        {
            string name = endpoint.Key;
            loader.Endpoint(name, configuration => Configure(name, configuration));
        }

        // Kestrel loads its configuration when it binds, after the hosted services have started: load it before they
        // prepare the certificates, so that these endpoints too listen only once their certificates are stapled. Kestrel's
        // own load is then a no-op (same reload token).
        contexts.RunBeforeStart(loader.Load);
    }

    private void Configure(string name, EndpointConfiguration endpoint)
    {
        if (!endpoint.IsHttps)
        {
            return;
        }

        if (endpoint.ConfigSection.GetSection("Sni").GetChildren().Any())
        {
            Log.ConfiguredEndpointNotStapled(logger, name, "it has an Sni section, which Kestrel serves with certificates of its own");
            return;
        }

        HttpsConnectionAdapterOptions https = endpoint.HttpsOptions;
        var options = new OcspStaplingHttpsOptions { HandshakeTimeout = https.HandshakeTimeout, OnAuthenticate = (context, ssl) => ApplyKestrelSettings(https, context, ssl) };
        IConfigurationSection certificate = endpoint.ConfigSection.GetSection("Certificate");
        if (!certificate.GetChildren().Any())
        {
            certificate = loader.Configuration.GetSection("Certificates:Default");
        }

        string? path = certificate["Path"];
        string? keyPath = certificate["KeyPath"];
        if (path is not null && (keyPath is null || certificate["Password"] is null))
        {
            // The files themselves, watched: a renewal is served once stapled, whether or not Kestrel rebinds for it.
            options.ServerCertificateSource = keyPath is not null
                ? contexts.WatchPemFiles(Resolve(path), Resolve(keyPath))
                : contexts.WatchPfxFile(Resolve(path), certificate["Password"]);
        }
        else if (https.ServerCertificate is not null)
        {
            options.ServerCertificate = https.ServerCertificate;
            options.ServerCertificateChain = https.ServerCertificateChain;
        }
        else
        {
            Log.ConfiguredEndpointNotStapled(logger, name, "it has no certificate Kestrel loaded (a selector of its own)");
            return;
        }

        configure?.Invoke(options);
        endpoint.ListenOptions.UseHttpsWithOcspStapling(options);
        object served = (object?)options.ServerCertificateSource ?? options.ServerCertificate!;
        OcspStapledCertificate current = options.ServerCertificateSource?.Current ?? contexts.GetOrCreate(options.ServerCertificate!, options.ServerCertificateChain);
        Log.ConfiguredEndpointStapled(logger, name, CertificateNames.DisplayName(current.Certificate), options.ServerCertificateSource is null ? "as loaded" : string.Join(", ", options.ServerCertificateSource.Files));
        Replace(name, served);
    }

    /// <summary>A reload gave the endpoint another certificate: the one it served before is no longer stapled, unless another endpoint serves it.</summary>
    private void Replace(string name, object served)
    {
        object? previous;
        lock (_served)
        {
            _served.TryGetValue(name, out previous);
            _served[name] = served;
            if (previous is null || Same(previous, served) || _served.Values.Any(v => Same(v, previous)))
            {
                return;
            }
        }

        if (previous is OcspCertificateFileSource source)
        {
            source.Dispose();
            contexts.Remove(source.Current.Certificate);
        }
        else
        {
            contexts.Remove((X509Certificate2)previous);
        }
    }

    private static bool Same(object a, object b) =>
        ReferenceEquals(a, b) || (a is X509Certificate2 x && b is X509Certificate2 y && x.RawDataMemory.Span.SequenceEqual(y.RawDataMemory.Span));

    private string Resolve(string path) => Path.GetFullPath(Path.Combine(contentRoot, path));

    /// <summary>What Kestrel's own HTTPS adapter would set from the endpoint's options, then its OnAuthenticate.</summary>
    private static void ApplyKestrelSettings(HttpsConnectionAdapterOptions https, Microsoft.AspNetCore.Server.Kestrel.Https.TlsHandshakeCallbackContext context, SslServerAuthenticationOptions ssl)
    {
        ssl.EnabledSslProtocols = https.SslProtocols;
        ssl.CertificateRevocationCheckMode = https.CheckCertificateRevocation ? X509RevocationMode.Online : X509RevocationMode.NoCheck;
        context.AllowDelayedClientCertificateNegotation = https.ClientCertificateMode == ClientCertificateMode.DelayCertificate;
        if (https.ClientCertificateMode != ClientCertificateMode.NoCertificate)
        {
            // As Kestrel would build client chains, but never fetching the issuers a client's certificate names (.NET 10's
            // TLS layer does by default; .NET 11 no longer does).
            ssl.CertificateChainPolicy = ClientChains.Policy(null, ssl.CertificateRevocationCheckMode);
            ssl.ClientCertificateRequired = https.ClientCertificateMode is ClientCertificateMode.AllowCertificate or ClientCertificateMode.RequireCertificate;
            ssl.RemoteCertificateValidationCallback = (_, certificate, chain, errors) => certificate is null
                ? https.ClientCertificateMode != ClientCertificateMode.RequireCertificate
                : https.ClientCertificateValidation is { } validate
                    ? validate(certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()), chain, errors)
                    : errors == SslPolicyErrors.None;
        }

        https.OnAuthenticate?.Invoke(context.Connection, ssl);
    }
}
