using System.CommandLine;

namespace Ocsp.Stapling.Tool;

/// <summary><c>fetch</c>: one certificate, one validated response, written atomically as DER.</summary>
internal static class FetchCommand
{
    public static Command Create()
    {
        var cert = new Option<string>("--cert") { Description = "The certificate (PEM or DER; a PEM chain may carry its issuer second).", Required = true };
        var issuer = new Option<string?>("--issuer") { Description = "The issuer certificate, when --cert holds only the leaf." };
        var output = new Option<string?>("--out") { Description = "Where to write the DER response (default: <cert>.ocsp, HAProxy's name)." };
        var url = new Option<string?>("--url") { Description = "Ask this responder instead of the certificate's AIA OCSP URL." };
        var verbose = new Option<bool>("--verbose") { Description = "Log what the fetcher does." };
        OutboundProxyArguments proxy = OutboundProxyArguments.Create();
        var socket = new Option<string?>("--haproxy-socket")
        {
            Description = "After writing, push the response to a running HAProxy through its stats socket (level admin): a unix socket path, or host:port. "
                + "No reload needed; exit 75 when the push fails (the file is written).",
        };
        var command = new Command("fetch", "Fetch, validate and write the OCSP response of one certificate (plain DER, as nginx ssl_stapling_file, HAProxy .ocsp and exim tls_ocsp_file read it).")
        {
            cert, issuer, output, url, verbose, socket,
        };
        proxy.AddTo(command);
        command.SetAction((result, cancellationToken) => ToolRunner.RunAsync(async () =>
        {
            Action<OcspStaplingOptions> outbound = proxy.Parse(result);
            HaProxySocket? haproxy = result.GetValue(socket) is { } address ? HaProxySocket.Parse(address, "--haproxy-socket") : null;
            CertificatePair pair = CertificatePair.Load(result.GetValue(cert)!, result.GetValue(issuer));
            string path = result.GetValue(output) ?? result.GetValue(cert) + ".ocsp";
            Dictionary<string, string> overrides = [];
            if (result.GetValue(url) is { } responder)
            {
                overrides[pair.Certificate.Thumbprint] = ResponderUrls.Parse(responder, "--url").ToString();
            }

            if (overrides.Count == 0 && pair.Certificate.GetOcspResponderUris().Count == 0)
            {
                throw new ToolException(ExitCodes.BadInput, $"{pair.Name} has no OCSP responder URL (AIA): give its responder with --url. Nothing written.");
            }

            await using var fetcher = new ResponseFetcher(overrides, result.GetValue(verbose), configure: outbound);
            (OcspStaple? staple, string? failure) = await fetcher.FetchAsync(pair, cancellationToken).ConfigureAwait(false);
            if (staple is null)
            {
                throw new ToolException(ExitCodes.FetchFailed, $"No valid OCSP response for {pair.Name}: {failure}. Nothing written.");
            }

            Console.WriteLine($"{pair.Name}: {ResponseFiles.Describe(staple)}");
            if (staple.Status != OcspCertificateStatus.Good)
            {
                Console.Error.WriteLine($"The certificate is {staple.Status.ToString().ToLowerInvariant()}: not written to '{path}'.");
                return ExitCodes.NotGood;
            }

            ResponseFiles.WriteAtomically(path, staple.Encoded.Span);
            Console.WriteLine($"Wrote {staple.Encoded.Length} bytes to {path}");
            if (haproxy is not null)
            {
                if (await haproxy.PushAsync(staple.Encoded, cancellationToken).ConfigureAwait(false) is { } refused)
                {
                    await Console.Error.WriteLineAsync($"ocsp-stapling: {path}: written, but not pushed ({refused}); reload HAProxy to load it.").ConfigureAwait(false);
                    return ExitCodes.PushFailed;
                }

                Console.WriteLine($"Pushed to HAProxy at {haproxy.Address}: stapled from now on, no reload needed.");
            }

            return ExitCodes.Ok;
        }));
        return command;
    }
}
