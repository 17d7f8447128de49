using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Ocsp.Stapling;
using Ocsp.Stapling.AspNetCore;
using Ocsp.Stapling.AspNetCore.Internal;
using Ocsp.Stapling.Internal;

namespace Microsoft.AspNetCore.Hosting;

/// <summary>
/// HTTPS with OCSP stapling on a Kestrel endpoint, in the shape of Kestrel's <c>UseHttps</c> family: a certificate (with
/// its chain) from an instance, a collection, PEM files or a PFX, or an SNI selector. The certificates are registered
/// with the provider of <c>AddOcspStapling()</c>; each handshake staples the provider's current validated response,
/// and the runtime never asks a responder on its own.
/// </summary>
public static class OcspStaplingListenOptionsExtensions
{
    /// <summary>Serves HTTPS with <paramref name="serverCertificate"/>, its chain found in the certificate store, stapled.</summary>
    /// <param name="listenOptions">The endpoint.</param>
    /// <param name="serverCertificate">The server certificate, with its private key.</param>
    /// <returns>The endpoint.</returns>
    public static ListenOptions UseHttpsWithOcspStapling(this ListenOptions listenOptions, X509Certificate2 serverCertificate) =>
        listenOptions.UseHttpsWithOcspStapling(serverCertificate, chain: null);

    /// <summary>Serves HTTPS with <paramref name="serverCertificate"/> and its <paramref name="chain"/>, stapled.</summary>
    /// <param name="listenOptions">The endpoint.</param>
    /// <param name="serverCertificate">The server certificate, with its private key.</param>
    /// <param name="chain">Intermediates (the issuer among them unless it is in the store).</param>
    /// <param name="configure">Adjusts the options.</param>
    /// <returns>The endpoint.</returns>
    public static ListenOptions UseHttpsWithOcspStapling(
        this ListenOptions listenOptions, X509Certificate2 serverCertificate, X509Certificate2Collection? chain, Action<OcspStaplingHttpsOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(serverCertificate);
        var options = new OcspStaplingHttpsOptions { ServerCertificate = serverCertificate, ServerCertificateChain = chain };
        configure?.Invoke(options);
        return listenOptions.UseHttpsWithOcspStapling(options);
    }

    /// <summary>Serves HTTPS with the certificate of <paramref name="certificates"/> that has a private key; the others are its chain.</summary>
    /// <param name="listenOptions">The endpoint.</param>
    /// <param name="certificates">The server certificate and its chain, in any order.</param>
    /// <param name="configure">Adjusts the options.</param>
    /// <returns>The endpoint.</returns>
    public static ListenOptions UseHttpsWithOcspStapling(
        this ListenOptions listenOptions, X509Certificate2Collection certificates, Action<OcspStaplingHttpsOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(certificates);
        (X509Certificate2 certificate, X509Certificate2Collection chain) = OcspServerCertificateFiles.Split(certificates, "The certificate collection");
        return listenOptions.UseHttpsWithOcspStapling(certificate, chain, configure);
    }

    /// <summary>
    /// Serves HTTPS with the certificate, key and chain of a PFX (PKCS#12) file, stapled; a renewed file is picked up
    /// without a restart (<see cref="OcspStaplingContexts.WatchPfxFile"/>).
    /// </summary>
    /// <param name="listenOptions">The endpoint.</param>
    /// <param name="fileName">The PFX file.</param>
    /// <param name="password">Its password, if any.</param>
    /// <param name="configure">Adjusts the options.</param>
    /// <returns>The endpoint.</returns>
    public static ListenOptions UseHttpsWithOcspStapling(
        this ListenOptions listenOptions, string fileName, string? password, Action<OcspStaplingHttpsOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(listenOptions);
        ArgumentException.ThrowIfNullOrEmpty(fileName);
        var options = new OcspStaplingHttpsOptions { ServerCertificateSource = Contexts(listenOptions).WatchPfxFile(fileName, password) };
        configure?.Invoke(options);
        return listenOptions.UseHttpsWithOcspStapling(options);
    }

    /// <summary>
    /// Serves HTTPS with a PEM certificate (or full chain), its PEM private key and an optional PEM chain file, stapled;
    /// renewed files are picked up without a restart (<see cref="OcspStaplingContexts.WatchPemFiles"/>).
    /// </summary>
    /// <param name="listenOptions">The endpoint.</param>
    /// <param name="certificatePath">The certificate, optionally followed by its chain (fullchain.pem).</param>
    /// <param name="keyPath">The unencrypted PEM private key.</param>
    /// <param name="chainPath">More chain certificates (chain.pem), if not in <paramref name="certificatePath"/>.</param>
    /// <param name="configure">Adjusts the options.</param>
    /// <returns>The endpoint.</returns>
    public static ListenOptions UseHttpsWithOcspStaplingFromPem(
        this ListenOptions listenOptions, string certificatePath, string keyPath, string? chainPath = null, Action<OcspStaplingHttpsOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(listenOptions);
        ArgumentException.ThrowIfNullOrEmpty(certificatePath);
        ArgumentException.ThrowIfNullOrEmpty(keyPath);
        var options = new OcspStaplingHttpsOptions { ServerCertificateSource = Contexts(listenOptions).WatchPemFiles(certificatePath, keyPath, chainPath) };
        configure?.Invoke(options);
        return listenOptions.UseHttpsWithOcspStapling(options);
    }

    /// <summary>
    /// Serves HTTPS with the certificate an SNI selector picks per connection, each stapled: wrap the
    /// <c>ServerCertificateSelector</c> you have. List the certificates it can return in
    /// <see cref="OcspStaplingHttpsOptions.SelectableCertificates"/> to staple them from their first handshake.
    /// </summary>
    /// <param name="listenOptions">The endpoint.</param>
    /// <param name="serverCertificateSelector">The connection (may be null) and requested host name to the certificate.</param>
    /// <param name="configure">Adjusts the options (chain, selectable certificates).</param>
    /// <returns>The endpoint.</returns>
    public static ListenOptions UseHttpsWithOcspStapling(
        this ListenOptions listenOptions, Func<ConnectionContext?, string?, X509Certificate2?> serverCertificateSelector, Action<OcspStaplingHttpsOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(serverCertificateSelector);
        var options = new OcspStaplingHttpsOptions { ServerCertificateSelector = serverCertificateSelector };
        configure?.Invoke(options);
        return listenOptions.UseHttpsWithOcspStapling(options);
    }

    /// <summary>
    /// Serves HTTPS with stapling as <paramref name="httpsOptions"/> say. Every other overload ends here. At start-up the
    /// certificates are hooked and registered and their shared-cache staples loaded, so the first handshake is stapled.
    /// </summary>
    /// <param name="listenOptions">The endpoint.</param>
    /// <param name="httpsOptions">The certificate or selector, and TLS settings.</param>
    /// <returns>The endpoint.</returns>
    /// <exception cref="InvalidOperationException">
    /// <c>AddOcspStapling()</c> was not called; a certificate's issuer cannot be found; or a must-staple certificate has no
    /// staple while <see cref="OcspStaplingHttpsOptions.RequireStapleForMustStaple"/> is set.
    /// </exception>
    public static ListenOptions UseHttpsWithOcspStapling(this ListenOptions listenOptions, OcspStaplingHttpsOptions httpsOptions)
    {
        ArgumentNullException.ThrowIfNull(listenOptions);
        ArgumentNullException.ThrowIfNull(httpsOptions);
        OptionsCheck.Validated(new OcspStaplingHttpsOptionsValidator(), httpsOptions);

        OcspStaplingContexts contexts = Contexts(listenOptions);

        // Kestrel configures endpoints before the hosted services start, and those start before it accepts connections:
        // the OCSP hosted services then give these contexts a staple (the shared cache's, else the responder's first
        // answer, within StartupFetchTimeout) and wait for required ones.
        IEnumerable<X509Certificate2> startup = httpsOptions.ServerCertificate is { } single ? [single]
            : httpsOptions.ServerCertificateSource is { } source ? [source.Current.Certificate]
            : httpsOptions.SelectableCertificates;
        OcspStapledCertificate[] entries = [.. startup.Select(c => PrepareAtStartup(contexts, c, httpsOptions))];

        RemoteCertificateValidationCallback? clients = httpsOptions.ClientCertificates.Mode == ClientCertificateMode.NoCertificate
            ? null
            : KestrelClientCertificates.Callback(listenOptions.ApplicationServices, httpsOptions);
        var connection = new ConnectionOptions(contexts, httpsOptions, httpsOptions.ServerCertificate is not null ? entries[0] : null, clients);
        return listenOptions.UseHttps(new TlsHandshakeCallbackOptions
        {
            HandshakeTimeout = httpsOptions.HandshakeTimeout,
            OnConnectionState = connection,
            OnConnection = static context => ValueTask.FromResult(((ConnectionOptions)context.State!).Create(context)),
        });
    }

    private static OcspStaplingContexts Contexts(ListenOptions listenOptions) =>
        listenOptions.ApplicationServices.GetService<OcspStaplingContexts>()
            ?? throw new InvalidOperationException("OCSP stapling in Kestrel needs the provider: call services.AddOcspStapling() when configuring services.");

    private static OcspStapledCertificate PrepareAtStartup(OcspStaplingContexts contexts, X509Certificate2 certificate, OcspStaplingHttpsOptions options)
    {
        OcspStapledCertificate entry = contexts.GetOrCreate(certificate, options.ServerCertificateChain);
        if (entry.Issuer is null)
        {
            throw new InvalidOperationException($"Cannot staple OCSP for {CertificateNames.DisplayName(certificate)}: {entry.NotStaplingDetail}.");
        }

        if (entry.IsMustStaple && options.RequireStapleForMustStaple)
        {
            contexts.RequireStapleAtStartup(entry, options.StartupStapleTimeout);
        }

        return entry;
    }

    /// <summary>Per-connection TLS options: the certificate's one hooked context, then the application's adjustments.</summary>
    private sealed class ConnectionOptions(
        OcspStaplingContexts contexts, OcspStaplingHttpsOptions options, OcspStapledCertificate? single, RemoteCertificateValidationCallback? clients)
    {
        public SslServerAuthenticationOptions Create(TlsHandshakeCallbackContext context)
        {
            // The source's current certificate is read per handshake: a renewal is served from the next one on.
            OcspStapledCertificate entry = single ?? options.ServerCertificateSource?.Current ?? Select(context);

            // A new options object per connection: Kestrel fills in ALPN on it, and OnAuthenticate may change it.
            var sslOptions = new SslServerAuthenticationOptions { ServerCertificateContext = entry.Context };
            if (clients is not null)
            {
                sslOptions.ClientCertificateRequired = true;
                sslOptions.CertificateChainPolicy = KestrelClientCertificates.ChainPolicy(options); // the TLS layer's build: downloads off too
                sslOptions.RemoteCertificateValidationCallback = clients;
            }

            options.OnAuthenticate?.Invoke(context, sslOptions);
            return sslOptions;
        }

        private OcspStapledCertificate Select(TlsHandshakeCallbackContext context)
        {
            string? host = context.ClientHelloInfo.ServerName;
            X509Certificate2 certificate = options.ServerCertificateSelector!(context.Connection, host)
                ?? throw new AuthenticationException($"The server certificate selector returned no certificate for host '{host}'.");
            return contexts.GetOrCreate(certificate, options.ServerCertificateChain);
        }
    }
}
