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
            Description = "Forget a --ca certificate nobody asked for in this long: it is no longer refreshed, and its stored response is deleted (e.g. 7d, 12h, 30m).",
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
        ServeLimits limits = ServeLimits.Create();
        OutboundProxyArguments proxy = OutboundProxyArguments.Create();
        var command = new Command("serve", "Run a caching OCSP proxy: POST and GET, answered from validated, persisted responses; upstream only to allowed responders (403 otherwise).")
        {
            urls, allow, certs, issuers, cas, forgetAfter, maxPerCa, unknownFor, path,
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

            OcspProxyCertificateAuthority[] authorities =
            [
                .. (result.GetValue(cas) ?? []).SelectMany(CertificatePair.LoadAuthorities).Select(c => new OcspProxyCertificateAuthority(c, allowed.FirstOrDefault())),
            ];
            if (authorities.Length > 0 && allowed.Count == 0)
            {
                throw new ToolException(ExitCodes.Usage, "--ca needs the CA's responder: give it with --allow-responder.");
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

            if (pairs.Length == 0 && allowed.Count == 0)
            {
                throw new ToolException(ExitCodes.Usage, "Nothing to proxy: give --cert (with --issuer), --ca and/or --allow-responder.");
            }

            // A certificate without an AIA responder (many CAs dropped OCSP) is fetched from the first allowed responder.
            CertificatePair[] withoutResponder = [.. pairs.Where(p => p.Certificate.GetOcspResponderUris().Count == 0)];
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
            Console.WriteLine($"OCSP proxy listening on {string.Join(", ", app.Urls)} for {caching}, responses shared through {shared.Describe()}; {limitValues.Describe()}; allowed responders: "
                + string.Join(", ", allowed.Concat(pairs.SelectMany(p => p.Certificate.GetOcspResponderUris())).Distinct()));
            await app.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
            return ExitCodes.Ok;
        }));
        return command;
    }
}
