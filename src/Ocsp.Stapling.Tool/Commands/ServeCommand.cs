using System.CommandLine;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Ocsp.Stapling.AspNetCore;
using Ocsp.Stapling.AspNetCore.Internal;

namespace Ocsp.Stapling.Tool;

/// <summary><c>serve</c>: the caching OCSP proxy as a standalone server (the <c>ocsp_proxy</c> replacement), with the persisted cache and the scheduler.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var urls = new Option<string>("--urls") { Description = "Where to listen (semicolon-separated), e.g. http://127.0.0.1:8080.", DefaultValueFactory = _ => "http://127.0.0.1:8080" };
        StoreOptions store = StoreOptions.Create("Directory of the persisted response cache (default: the library's default directory); or share a store with --redis / --postgres.");
        var allow = new Option<string[]>("--allow-responder") { Description = "A responder URL the proxy may contact besides the certificates' AIA responders (repeatable); the first is also used for a --cert without an AIA responder." };
        var certs = new Option<string[]>("--cert") { Description = "A certificate to keep a response for (repeatable; its AIA responder becomes allowed)." };
        var issuers = new Option<string[]>("--issuer") { Description = "The issuer of the --cert at the same position (or give chain files as --cert)." };
        var path = new Option<string>("--path") { Description = "The proxy's path.", DefaultValueFactory = _ => "/" };
        var cas = new Option<string[]>("--ca")
        {
            Description = "A CA certificate file (PEM or DER; a bundle gives several) whose certificates are cached from their first request, with nothing listed "
                + "(ocsp_proxy's behaviour), validated against it, once their responder answers good or revoked (an unknown answer is relayed, not cached as a certificate) "
                + "(repeatable). Their responder is the allowed responder the request's Host names, or the first --allow-responder for requests addressed to the proxy itself.",
        };
        var backends = new Option<string[]>("--backend")
        {
            Description = "Front a CA's responder under its own name: PUBLIC_URL=BACKEND_URL (repeatable; several backends of one public URL are tried in order, "
                + "a failing one skipped for 30 s). Requests whose Host and path name PUBLIC_URL are answered from the validated cache (certificates of --ca), "
                + "misses and refreshes go to the backends; RFC 5019 GETs only up to 255 bytes (414 beyond), no-cache never bypasses the cache.",
        };
        ServeLimits limits = ServeLimits.Create();
        ProxyArguments proxyArguments = ProxyArguments.Create();
        OutboundProxyArguments proxy = OutboundProxyArguments.Create();
        var command = new Command("serve", "Run a caching OCSP proxy: POST and GET, answered from validated, persisted responses; upstream only to allowed responders (403 otherwise).")
        {
            urls, allow, backends, certs, issuers, cas,
        };
        proxyArguments.AddCacheOptionsTo(command);
        command.Options.Add(path);
        limits.AddTo(command);
        proxyArguments.AddLimitOptionsTo(command);
        store.AddTo(command);
        proxy.AddTo(command);
        command.SetAction((result, cancellationToken) => ToolRunner.RunAsync(async () =>
        {
            StoreOptions.Choice shared = store.Parse(result);
            ServeLimits.Values limitValues = limits.Parse(result);
            Action<OcspStaplingOptions> outbound = proxy.Parse(result);
            CertificatePair[] pairs = CertificatePair.LoadAll(result.GetValue(certs) ?? [], result.GetValue(issuers) ?? []);
            List<Uri> allowed = [.. (result.GetValue(allow) ?? []).Select(url => ResponderUrls.Parse(url, "--allow-responder"))];
            OcspProxyBackend[] fronts = ParseBackends(result.GetValue(backends) ?? []);

            OcspProxyCertificateAuthority[] authorities =
            [
                .. (result.GetValue(cas) ?? []).SelectMany(CertificatePair.LoadAuthorities).Select(c => new OcspProxyCertificateAuthority(c, allowed.FirstOrDefault())),
            ];
            Action<OcspProxyOptions> settings = proxyArguments.Parse(result);
            Action<OcspProxyOptions> configure = o =>
            {
                foreach (Uri uri in allowed)
                {
                    o.AllowedResponders.Add(uri);
                }

                foreach (OcspProxyCertificateAuthority authority in authorities)
                {
                    o.CertificateAuthorities.Add(authority);
                }

                foreach (OcspProxyBackend front in fronts)
                {
                    o.Backends.Responders.Add(front);
                }

                settings(o);
            };
            var proxyOptions = new OcspProxyOptions();
            configure(proxyOptions);
            ProxyArguments.Check(proxyOptions);

            if (pairs.Length == 0 && allowed.Count == 0 && fronts.Length == 0)
            {
                throw new ToolException(ExitCodes.Usage, "Nothing to proxy: give --cert (with --issuer), --ca, --allow-responder and/or --backend.");
            }

            // A certificate without an AIA responder (many CAs dropped OCSP) is fetched from the first allowed responder.
            CertificatePair[] withoutResponder = [.. pairs.Where(p => p.Certificate.GetOcspResponderUris().Count == 0)];
            // One whose AIA responder is a fronted public URL (this proxy) is fetched from that front's first backend.
            (CertificatePair Pair, Uri Backend)[] fronted =
            [
                .. pairs.SelectMany(p => p.Certificate.GetOcspResponderUris().Take(1).SelectMany(aia => fronts.Where(f => BackendFronts.SameAuthority(f.PublicUrl, aia)).Take(1).Select(f => (p, f.Backends[0])))),
            ];
            if (withoutResponder is [CertificatePair first, ..] && allowed.Count == 0)
            {
                throw new ToolException(ExitCodes.BadInput, $"{first.Name} has no OCSP responder URL (AIA): give its responder with --allow-responder.");
            }

            WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls(result.GetValue(urls)!);
            builder.WebHost.ConfigureKestrel(limitValues.Apply);
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true);

            // A proxy's log is about certificates and floods, not requests: ASP.NET Core's two Information lines per
            // request ("Request starting", "Request finished") would be most of it. A default, under what the environment
            // sets (Logging__LogLevel__Microsoft.AspNetCore.Hosting.Diagnostics=Information brings them back). That category is
            // off, not at Warning: while it is on at any level, ASP.NET Core makes an Activity and a log scope for every
            // request (5% of a cached answer's CPU, measured). Its other lines are start-up failures, which are thrown and reported anyway.
            builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource
            {
                InitialData =
                [
                    new("Logging:LogLevel:Default", "Information"),
                    new("Logging:LogLevel:Microsoft.AspNetCore", "Warning"),
                    new("Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics", "None"),
                ],
            });
            // A start-up that fails (a port in use) is one line, the ToolException below, instead of the host's Error
            // with its stack trace first (the trace is logged at Debug).
            bool started = false;
            builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", level => level >= LogLevel.Information && (Volatile.Read(ref started) || level != LogLevel.Error));
            IOcspStaplingBuilder stapling = builder.Services.AddOcspStapling(options =>
            {
                outbound(options);
                foreach (CertificatePair pair in withoutResponder)
                {
                    options.Fetch.ResponderOverrides[pair.Certificate.Thumbprint] = allowed[0].AbsoluteUri;
                }

                foreach ((CertificatePair pair, Uri backend) in fronted)
                {
                    options.Fetch.ResponderOverrides[pair.Certificate.Thumbprint] = backend.AbsoluteUri;
                }
            });
            shared.Apply(stapling);
            foreach (CertificatePair pair in pairs)
            {
                stapling.AddCertificate(pair.Certificate, pair.Issuer);
            }

            await using WebApplication app = builder.Build();
            // The proxy is the whole application: no routing, which a server that does nothing else does not need.
            app.Run(OcspProxyEndpointRouteBuilderExtensions.CreateProxy(app.Services, result.GetValue(path)!, configure).HandleAsApplicationAsync);
            try
            {
                await app.StartAsync(cancellationToken).ConfigureAwait(false);
                Volatile.Write(ref started, true);
            }
            catch (IOException ex)
            {
                ToolLog.StartFailed(app.Logger, ex);
                throw new ToolException(ExitCodes.CannotWrite, $"Cannot listen on {result.GetValue(urls)}: {ex.Message}");
            }

            string caching = authorities.Length == 0
                ? $"{pairs.Length} certificate(s)"
                : $"{pairs.Length} certificate(s) and every certificate of {authorities.Length} CA(s) its responder vouches for, from its first request "
                    + $"(forgotten after {Durations.Format(proxyOptions.Cache.ForgetAfter)} unasked, at most {proxyOptions.Cache.MaxCertificatesPerAuthority} per CA; unknown answers kept {Durations.Format(proxyOptions.Cache.UnknownAnswerTime)})";
            string fronting = fronts.Length == 0 ? "" : "; fronting " + string.Join("; ", fronts.Select(f => $"{f.PublicUrl} -> {string.Join(", ", f.Backends)}"));
            Console.WriteLine($"OCSP proxy listening on {string.Join(", ", app.Urls)} for {caching}, responses shared through {shared.Describe()}; "
                + $"limits: {limitValues.Describe()}, {ProxyArguments.Describe(proxyOptions)}; allowed responders: "
                + string.Join(", ", allowed.Concat(pairs.SelectMany(p => p.Certificate.GetOcspResponderUris())).Where(u => !fronts.Any(f => BackendFronts.SameAuthority(f.PublicUrl, u))).Distinct())
                + fronting);
            await app.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>
    /// <c>--backend PUBLIC_URL=BACKEND_URL</c> values, grouped by public URL (host, port and path) in the order given. The
    /// split is at the first <c>=http</c>, so a public URL may hold '=' in its path.
    /// </summary>
    internal static OcspProxyBackend[] ParseBackends(IEnumerable<string> values)
    {
        var groups = new List<(Uri Public, List<Uri> Backends)>();
        foreach (string value in values)
        {
            int split = value.IndexOf("=http", StringComparison.OrdinalIgnoreCase);
            if (split <= 0)
            {
                throw new ToolException(ExitCodes.Usage, $"--backend '{value}' is not PUBLIC_URL=BACKEND_URL (e.g. http://ocsp.ca.example/=http://10.0.0.5:8080/ocsp).");
            }

            Uri publicUrl = ResponderUrls.Parse(value[..split], "--backend's public URL");
            Uri backend = ResponderUrls.Parse(value[(split + 1)..], "--backend's backend URL");

            string key = Key(publicUrl);
            int index = groups.FindIndex(g => Key(g.Public) == key);
            if (index < 0)
            {
                groups.Add((publicUrl, [backend]));
            }
            else if (!groups[index].Backends.Contains(backend))
            {
                groups[index].Backends.Add(backend);
            }
        }

        return [.. groups.Select(g => new OcspProxyBackend(g.Public, g.Backends))];

        static string Key(Uri url) => $"{url.Host}:{url.Port}{url.AbsolutePath.TrimEnd('/')}".ToLowerInvariant();
    }
}
