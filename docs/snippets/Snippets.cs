#pragma warning disable CA1822, CA1848, CA2007, IDE0059, CS0219 // examples as a reader pastes them: not library code
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Authentication.Certificate;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Ocsp.Stapling;

namespace Ocsp.Stapling.Docs.Snippets;

/// <summary>The examples of docs/*.md, each a region included by a page.</summary>
internal sealed class Snippets
{
    public async Task ProviderAsync(WebApplicationBuilder builder, IOcspResponseProvider provider, OcspCertificateRegistry registry, X509Certificate2 leaf, X509Certificate2 issuer, X509Certificate2 certificate)
    {
        #region provider
        builder.Services.AddOcspStapling(options =>
            {
                options.Refresh.AtFraction = 0.5;                     // refresh at half-life (default)
            })
            .AddCertificate(leaf, issuer)                             // or .AddCertificateFile("chain.pem")
            .UseFileSystemCache("/var/cache/ocsp-stapling");          // default backend; or .UseDistributedCache() for the app's IDistributedCache

        // Anywhere (a TLS callback, a proxy): never blocks, never allocates, never throws.
        if (provider.TryGetCachedStaple(certificate, out OcspStaple? staple)) { /* staple.Encoded */ }

        // Subscribe to what happens.
        registry.StapleUpdated += (_, e) => { /* e.Staple: the newer response; e.IsServed: false for revoked (not stapled) */ };
        registry.StapleRemoved += (_, e) => { /* e.Reason: Expired (nextUpdate passed) or Unregistered */ };
        registry.StapleFailed += (_, e) => { /* e.Failure.Reason: Timeout, HttpStatus, InvalidResponse (e.Failure.ValidationFailure says which check), ... */ };
        registry.CertificateRevoked += (_, e) => { /* also logged at Critical */ };

        // Refresh one certificate now and learn what came of it (the tool and the proxy do this).
        OcspRefreshResult result = await registry.RefreshAsync(certificate);
        // result.Response (any status, valid now), result.Source (Responder, SharedStore, Memory), result.Failure (null on success)
        #endregion
    }

    public void Kestrel(WebApplicationBuilder builder)
    {
        #region kestrel
        // No using of ours: AddOcspStapling() is in Microsoft.Extensions.DependencyInjection, the ListenOptions extensions in
        // Microsoft.AspNetCore.Hosting, MapOcspProxy / MapOcspStaplingStatus in Microsoft.AspNetCore.Builder.
        builder.Services.AddOcspStapling();                                   // provider, scheduler, file-system cache
        builder.Services.AddHealthChecks().AddOcspStapling();                 // optional: /health per certificate
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenAnyIP(443, listen =>
            listen.UseHttpsWithOcspStaplingFromPem("/etc/ssl/site/fullchain.pem", "/etc/ssl/site/privkey.pem")));
        #endregion
    }

    public void KestrelConfiguration(WebApplicationBuilder builder)
    {
        #region kestrel-configuration
        builder.Services.AddOcspStapling();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.UseOcspStapling());   // every HTTPS endpoint of "Kestrel"
        #endregion
    }

    public void KestrelSni(WebApplicationBuilder builder, Dictionary<string, X509Certificate2> certificates, X509Certificate2Collection intermediates)
    {
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenAnyIP(443, listen =>
        {
            #region kestrel-sni
            listen.UseHttpsWithOcspStapling((connection, host) => certificates.GetValueOrDefault(host ?? ""), options =>
            {
                options.ServerCertificateChain = intermediates;                  // to send, and to find each issuer in
                options.SelectableCertificates.AddRange(certificates.Values.ToArray()); // stapled from their very first handshake
            });
            #endregion
        }));
    }

    public void Firewall(WebApplicationBuilder builder)
    {
        #region firewall
        builder.Services.AddOcspStapling(o =>
        {
            o.Fetch.Proxy.Address = new Uri("http://proxy.internal:3128");  // http://user:password@proxy.internal:3128 for Basic credentials
            o.Fetch.Proxy.Bypass.Add(".internal");                         // asked directly: that domain, as NO_PROXY reads it
            // o.Fetch.Proxy.UseEnvironment = false;                       // ignore HTTP_PROXY & co. when no Address is set
        });
        #endregion
    }

    public async Task ProtocolAsync(X509Certificate2 leaf, X509Certificate2 issuer, HttpClient http, TimeProvider timeProvider, ILogger logger)
    {
        #region protocol
        // Build the request (SHA-1 CertID, no nonce: what RFC 5019 responders cache).
        OcspRequest request = OcspRequest.Create(leaf, issuer);
        Uri responder = leaf.GetOcspResponderUris()[0];
        using HttpRequestMessage message = OcspHttpEncoding.CreateHttpRequest(responder, request.Encoded); // GET or POST

        using HttpResponseMessage reply = await http.SendAsync(message);
        byte[] body = await reply.Content.ReadAsByteArrayAsync();

        OcspValidationResult result = OcspResponseValidator.Validate(body, leaf, issuer, timeProvider.GetUtcNow());
        if (result.IsValid)
        {
            OcspStaple staple = result.Staple;   // DER bytes, status, thisUpdate, nextUpdate, producedAt, fetchedAt
        }
        else
        {
            logger.LogWarning("OCSP response rejected: {Reason} {Message}", result.Failure, result.Message);
        }
        #endregion
    }

    public async Task SslStreamAsync(SslStream sslStream)
    {
        #region sslstream
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Services.AddOcspStapling();                                      // provider, scheduler, file-system cache
        using IHost host = builder.Build();
        await host.StartAsync();                                                 // the refresh scheduler runs in the host

        var stapling = host.Services.GetRequiredService<OcspStaplingContexts>();
        OcspCertificateFileSource files = stapling.WatchPemFiles("fullchain.pem", "privkey.pem"); // hooked, registered, watched
        await stapling.PrepareAsync(files.Current);            // shared cache, else the responder's first answer (≤ Tls.StartupFetchTimeout)

        // per connection: the current certificate's context (a renewal is served once it is stapled)
        await sslStream.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificateContext = files.Context });
        #endregion
    }

    public void ClientCertificates(
        WebApplicationBuilder builder, X509Certificate2 certificate, X509Certificate2Collection chain,
        X509Certificate2Collection clientAuthorities, SslStreamCertificateContext context, OcspClientCertificateValidator validator, OcspClientCertificatePolicy policy)
    {
        #region client-certificates
        builder.Services.AddOcspStapling();

        // 1. ASP.NET Core certificate authentication: checked in its asynchronous event, no thread blocks, and a certificate
        //    not seen before waits for its responder up to FirstAnswerTimeout (5 s): even a client's first request is decided
        //    by a real answer. A rejected certificate fails authentication (HTTP 403 with the default challenge).
        //    clientAuthorities: the client CAs, the root and every issuing intermediate (clientAuthorities.ImportFromPemFile
        //    of one PEM file): the handler trusts only them and completes client chains from them (it does not see the
        //    intermediates a client sends, and downloads nothing). The endpoints it guards need .RequireAuthorization().
        builder.Services.AddAuthentication(CertificateAuthenticationDefaults.AuthenticationScheme).AddCertificate(options =>
            options.CheckOcspRevocation(new OcspClientCertificatePolicy { FailureMode = OcspClientFailureMode.FailClosed }, clientAuthorities));
        builder.Services.AddAuthorization();

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // 2. Kestrel at the TLS level, on a stapled endpoint (with 1, it asks for the certificate and refuses other
            //    CAs' in the handshake; with Revocation set, it also decides revocation there)...
            kestrel.ListenAnyIP(443, listen => listen.UseHttpsWithOcspStapling(certificate, chain, https =>
            {
                https.ClientCertificates.Mode = ClientCertificateMode.RequireCertificate;
                https.ClientCertificates.Authorities.AddRange(clientAuthorities);          // root and intermediates
                https.ClientCertificates.Revocation = new OcspClientCertificatePolicy();   // fail-closed
            }));

            // ...or on Kestrel's own UseHttps
            kestrel.ListenAnyIP(8443, listen => listen.UseHttps(https => https.CheckClientCertificateRevocation(
                listen.ApplicationServices.GetRequiredService<OcspClientCertificateValidator>(), new OcspClientCertificatePolicy(), clientAuthorities)));
        });

        // 3. Any SslStream server: requires a client certificate, the chain policy the TLS layer builds with (issuer
        //    downloads off), and the callback
        var options = new SslServerAuthenticationOptions { ServerCertificateContext = context };
        OcspClientCertificateValidation.RequireClientCertificate(options, validator, policy, clientAuthorities);
        #endregion
    }
}
