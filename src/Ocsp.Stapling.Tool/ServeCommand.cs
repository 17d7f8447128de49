using System.CommandLine;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
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
        var command = new Command("serve", "Run a caching OCSP proxy: POST and GET, answered from validated, persisted responses; upstream only to allowed responders (403 otherwise).")
        {
            urls, allow, certs, issuers, path,
        };
        store.AddTo(command);
        command.SetAction((result, cancellationToken) => ToolRunner.RunAsync(async () =>
        {
            string[] certificates = result.GetValue(certs) ?? [];
            string[] issuerFiles = result.GetValue(issuers) ?? [];
            if (issuerFiles.Length > 0 && issuerFiles.Length != certificates.Length)
            {
                throw new ToolException(ExitCodes.Usage, $"Give one --issuer per --cert ({certificates.Length} --cert, {issuerFiles.Length} --issuer), or none with chain files.");
            }

            StoreOptions.Choice shared = store.Parse(result);
            CertificatePair[] pairs = [.. certificates.Select((c, i) => CertificatePair.Load(c, issuerFiles.Length > 0 ? issuerFiles[i] : null))];
            List<Uri> allowed = [.. (result.GetValue(allow) ?? []).Select(url => ResponderUrls.Parse(url, "--allow-responder"))];

            if (pairs.Length == 0 && allowed.Count == 0)
            {
                throw new ToolException(ExitCodes.Usage, "Nothing to proxy: give --cert (with --issuer) and/or --allow-responder.");
            }

            // A certificate without an AIA responder (many CAs dropped OCSP) is fetched from the first allowed responder.
            CertificatePair[] withoutResponder = [.. pairs.Where(p => p.Certificate.GetOcspResponderUris().Count == 0)];
            if (withoutResponder is [CertificatePair first, ..] && allowed.Count == 0)
            {
                throw new ToolException(ExitCodes.BadInput, $"{first.Name} has no OCSP responder URL (AIA): give its responder with --allow-responder.");
            }

            WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls(result.GetValue(urls)!);
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
            IOcspStaplingBuilder stapling = builder.Services.AddOcspStapling(options =>
            {
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
            });
            try
            {
                await app.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (IOException ex)
            {
                throw new ToolException(ExitCodes.CannotWrite, $"Cannot listen on {result.GetValue(urls)}: {ex.Message}");
            }

            Console.WriteLine($"OCSP proxy listening on {string.Join(", ", app.Urls)} for {pairs.Length} certificate(s), responses shared through {shared.Describe()}; allowed responders: "
                + string.Join(", ", allowed.Concat(pairs.SelectMany(p => p.Certificate.GetOcspResponderUris())).Distinct()));
            await app.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
            return ExitCodes.Ok;
        }));
        return command;
    }
}
