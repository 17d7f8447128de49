using System.CommandLine;

namespace Ocsp.Stapling.Tool;

/// <summary>
/// <c>renew</c>: keeps response files fresh for servers that read them (nginx <c>ssl_stapling_file</c>, HAProxy
/// <c>&lt;cert&gt;.ocsp</c>, exim <c>tls_ocsp_file</c>), with ocspbot's semantics. Run from cron or a systemd timer.
/// </summary>
internal static class RenewCommand
{
    public static Command Create()
    {
        var config = new Option<string>("--config") { Description = "The JSON configuration (certificates, outputs, renewal window).", Required = true };
        var verbose = new Option<bool>("--verbose") { Description = "Log what the fetcher does." };
        StoreOptions store = StoreOptions.Create("Share responses through a directory (several hosts renewing the same certificates ask the responder once); or --redis / --postgres.");
        OutboundProxyArguments proxy = OutboundProxyArguments.Create();
        var command = new Command(
            "renew",
            "Renew the response files that are inside the renewal window; install only valid, good responses. Exit code: 0 nothing changed, "
            + "1-63 that many files changed (reload the server), 64 configuration error, 65/66 unusable or missing certificate, 69 a fetch failed and nothing changed, 73 cannot write.")
        {
            config, verbose,
        };
        store.AddTo(command);
        proxy.AddTo(command);
        command.SetAction((result, cancellationToken) => ToolRunner.RunAsync(() =>
        {
            StoreOptions.Choice shared = store.Parse(result);
            Action<OcspStaplingOptions> outbound = proxy.Parse(result);
            return RunAsync(RenewConfiguration.Load(result.GetValue(config)!), result.GetValue(verbose), shared.IsNone ? null : shared, outbound, cancellationToken);
        }));
        return command;
    }

    private static async Task<int> RunAsync(
        RenewConfiguration configuration, bool verbose, StoreOptions.Choice? store, Action<OcspStaplingOptions> outbound, CancellationToken cancellationToken)
    {
        int changed = 0;
        int? error = null;
        DateTimeOffset now = TimeProvider.System.GetUtcNow();

        // First every certificate and installed file, then one fetcher (one provider, one HTTP client) for all renewals.
        var due = new List<(RenewEntry Entry, CertificatePair Pair)>();
        Dictionary<string, string> overrides = new(StringComparer.OrdinalIgnoreCase);
        foreach (RenewEntry entry in configuration.Certificates)
        {
            try
            {
                CertificatePair pair = CertificatePair.Load(entry.Certificate, entry.Issuer);
                if (Current(entry.Output, pair, now) is { } current && !configuration.NeedsRenewal(current, now))
                {
                    Console.WriteLine($"{entry.Output}: kept ({ResponseFiles.Describe(current)})");
                    continue;
                }

                if (entry.Url is { } url)
                {
                    overrides[pair.Certificate.Thumbprint] = url;
                }

                due.Add((entry, pair));
            }
            catch (ToolException ex)
            {
                await Console.Error.WriteLineAsync("ocsp-stapling: " + ex.Message).ConfigureAwait(false);
                error ??= ex.ExitCode;
            }
        }

        if (due.Count > 0)
        {
            // With a shared store, a response another host stored is taken unless renew's own rule says it needs renewing:
            // the provider refreshes exactly where renew would (less than the minimum validity, or the percentage, left).
            await using var fetcher = new ResponseFetcher(overrides, verbose, store, options =>
            {
                options.Refresh.MinimumRemainingValidity = configuration.MinimumValidity;
                options.Refresh.AtFraction = Math.Clamp(1 - (configuration.MinimumValidityPercentage / 100), 0.001, 0.999);
                outbound(options);
            });
            foreach ((RenewEntry entry, CertificatePair pair) in due)
            {
                try
                {
                    (OcspStaple? staple, string? failure) = await fetcher.FetchAsync(pair, cancellationToken).ConfigureAwait(false);
                    if (staple is null || staple.Status != OcspCertificateStatus.Good)
                    {
                        string why = staple is null ? failure! : $"the responder says {staple.Status.ToString().ToLowerInvariant()}";
                        throw new ToolException(ExitCodes.FetchFailed, $"{entry.Output}: not renewed, {why}; the existing file is left as it was.");
                    }

                    ResponseFiles.WriteAtomically(entry.Output, staple.Encoded.Span, configuration.Backup);
                    changed++;
                    Console.WriteLine($"{entry.Output}: renewed ({ResponseFiles.Describe(staple)})");
                }
                catch (ToolException ex)
                {
                    await Console.Error.WriteLineAsync("ocsp-stapling: " + ex.Message).ConfigureAwait(false);
                    error ??= ex.ExitCode;
                }
            }
        }

        // Changed files win: the server must reload them now; failed ones are retried (and reported) on the next run.
        if (changed > 0)
        {
            Console.WriteLine($"{changed} file(s) changed: reload the server.");
            return Math.Min(changed, ExitCodes.MaxChanged);
        }

        return error ?? ExitCodes.Ok;
    }

    /// <summary>The installed response when it is a valid, good response for the certificate; null otherwise (then it is replaced).</summary>
    private static OcspStaple? Current(string path, CertificatePair pair, DateTimeOffset now)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        OcspValidationResult result = OcspResponseValidator.Validate(File.ReadAllBytes(path), pair.Certificate, pair.Issuer, now);
        return result.IsValid && result.Staple.Status == OcspCertificateStatus.Good ? result.Staple : null;
    }
}
