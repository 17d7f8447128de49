using System.CommandLine;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Ocsp.Stapling.AspNetCore;

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
        var forgetAfter = new Option<string>("--forget-after")
        {
            Description = "Forget a --ca certificate nobody asked for in this long: it is no longer refreshed; its stored response expires at its nextUpdate (e.g. 7d, 12h, 30m).",
            DefaultValueFactory = _ => "7d",
        };
        var maxPerCa = new Option<int>("--max-cached-per-ca")
        {
            Description = "Cache at most this many certificates of each --ca; each further one evicts the one asked for least recently.",
            DefaultValueFactory = _ => 10_000,
        };
        var unknownFor = new Option<string>("--unknown-cache-time")
        {
            Description = "Keep a responder's signed 'unknown' answer for a --ca serial (one it never issued) this long, never refreshed: asking again costs no upstream request (e.g. 10m, 0s to keep none).",
            DefaultValueFactory = _ => "10m",
        };
        var backends = new Option<string[]>("--backend")
        {
            Description = "Front a CA's responder under its own name: PUBLIC_URL=BACKEND_URL (repeatable; several backends of one public URL are tried in order, "
                + "a failing one skipped for 30 s). Requests whose Host and path name PUBLIC_URL are answered from the validated cache (certificates of --ca), "
                + "misses and refreshes go to the backends; RFC 5019 GETs only up to 255 bytes (414 beyond), no-cache never bypasses the cache.",
        };
        ServeLimits limits = ServeLimits.Create();
        OutboundProxyArguments proxy = OutboundProxyArguments.Create();
        var command = new Command("serve", "Run a caching OCSP proxy: POST and GET, answered from validated, persisted responses; upstream only to allowed responders (403 otherwise).")
        {
            urls, allow, backends, certs, issuers, cas, forgetAfter, maxPerCa, unknownFor, path,
        };
        limits.AddTo(command);
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
            if (authorities.Length > 0 && allowed.Count == 0 && fronts.Length == 0)
            {
                throw new ToolException(ExitCodes.Usage, "--ca needs the CA's responder: give it with --allow-responder, or front it with --backend.");
            }

            if (fronts.FirstOrDefault(f => allowed.Any(a => SameAuthority(a, f.PublicUrl))) is { } conflict)
            {
                throw new ToolException(ExitCodes.Usage, $"--backend {conflict.PublicUrl} is fronted here and never contacted: do not list it with --allow-responder too.");
            }

            if (fronts.SelectMany(f => f.Backends).FirstOrDefault(b => fronts.Any(f => SameAuthority(b, f.PublicUrl))) is { } loop)
            {
                throw new ToolException(ExitCodes.Usage, $"--backend {loop} has the host and port of a public URL, which this proxy answers itself: give the responder's own address.");
            }

            string forget = result.GetValue(forgetAfter)!;
            if (!Durations.TryParse(forget, out TimeSpan forgetSpan) || forgetSpan < TimeSpan.FromMinutes(1))
            {
                throw new ToolException(ExitCodes.Usage, $"--forget-after '{forget}' is not a duration of a minute or more (e.g. 7d, 12h, 30m).");
            }

            string unknownText = result.GetValue(unknownFor)!;
            if (!Durations.TryParse(unknownText, out TimeSpan unknownSpan) || unknownSpan > TimeSpan.FromDays(1))
            {
                throw new ToolException(ExitCodes.Usage, $"--unknown-cache-time '{unknownText}' is not a duration of a day or less (e.g. 10m, 30s, 0s).");
            }

            int cap = result.GetValue(maxPerCa);
            if (cap < 1)
            {
                throw new ToolException(ExitCodes.Usage, $"--max-cached-per-ca must be 1 or more, not {cap}.");
            }

            if (pairs.Length == 0 && allowed.Count == 0 && fronts.Length == 0)
            {
                throw new ToolException(ExitCodes.Usage, "Nothing to proxy: give --cert (with --issuer), --ca, --allow-responder and/or --backend.");
            }

            // A certificate without an AIA responder (many CAs dropped OCSP) is fetched from the first allowed responder.
            CertificatePair[] withoutResponder = [.. pairs.Where(p => p.Certificate.GetOcspResponderUris().Count == 0)];
            // One whose AIA responder is a fronted public URL (this proxy) is fetched from that front's first backend.
            (CertificatePair Pair, Uri Backend)[] fronted =
            [
                .. pairs.SelectMany(p => p.Certificate.GetOcspResponderUris().Take(1).SelectMany(aia => fronts.Where(f => SameAuthority(f.PublicUrl, aia)).Take(1).Select(f => (p, f.Backends[0])))),
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
            // sets (Logging__LogLevel__Microsoft.AspNetCore=Information brings them back).
            builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource
            {
                InitialData = [new("Logging:LogLevel:Default", "Information"), new("Logging:LogLevel:Microsoft.AspNetCore", "Warning")],
            });
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
            app.MapOcspProxy(result.GetValue(path)!, o =>
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
                    o.Backends.Add(front);
                }

                o.ForgetAfter = forgetSpan;
                o.MaxCachedCertificatesPerAuthority = cap;
                o.MaxConcurrentForwardsPerResponder = limitValues.ConcurrentForwards;
                o.MaxForwardsPerSecondPerResponder = limitValues.ForwardsPerSecond;
                o.MaxConcurrentForwardsPerClient = limitValues.ConcurrentForwardsPerClient;
                o.MaxForwardsPerSecondPerClient = limitValues.ForwardsPerSecondPerClient;
                o.UnknownAnswerCacheTime = unknownSpan;
            });
            try
            {
                await app.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (IOException ex)
            {
                throw new ToolException(ExitCodes.CannotWrite, $"Cannot listen on {result.GetValue(urls)}: {ex.Message}");
            }

            string caching = authorities.Length == 0
                ? $"{pairs.Length} certificate(s)"
                : $"{pairs.Length} certificate(s) and every certificate of {authorities.Length} CA(s) its responder vouches for, from its first request "
                    + $"(forgotten after {forgetSpan} unasked, at most {cap} per CA; unknown answers kept {unknownSpan})";
            string fronting = fronts.Length == 0 ? "" : "; fronting " + string.Join("; ", fronts.Select(f => f.ToString()));
            Console.WriteLine($"OCSP proxy listening on {string.Join(", ", app.Urls)} for {caching}, responses shared through {shared.Describe()}; {limitValues.Describe()}; allowed responders: "
                + string.Join(", ", allowed.Concat(pairs.SelectMany(p => p.Certificate.GetOcspResponderUris())).Where(u => !fronts.Any(f => SameAuthority(f.PublicUrl, u))).Distinct())
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
            if (publicUrl.Query.Length > 0)
            {
                throw new ToolException(ExitCodes.Usage, $"--backend's public URL '{publicUrl}' has a query; an OCSP URL has none.");
            }

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

    private static bool SameAuthority(Uri a, Uri b) => string.Equals(a.Host, b.Host, StringComparison.OrdinalIgnoreCase) && a.Port == b.Port;
}
