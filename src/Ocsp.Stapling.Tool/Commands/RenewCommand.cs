using System.CommandLine;
using System.Security.Cryptography.X509Certificates;
using Ocsp.Stapling.Internal;

namespace Ocsp.Stapling.Tool;

/// <summary>
/// <c>renew</c>: keeps response files fresh for servers that read them (nginx <c>ssl_stapling_file</c>, HAProxy
/// <c>&lt;cert&gt;.ocsp</c>, exim <c>tls_ocsp_file</c>), with ocspbot's semantics, and CRL files (nginx <c>ssl_crl</c>,
/// HAProxy <c>crl-file</c>): a newer validated CRL replaces the file. Run from cron or a systemd timer.
/// </summary>
internal static class RenewCommand
{
    public static Command Create()
    {
        var config = new Option<string>("--config") { Description = "The JSON configuration (certificates, CRLs, outputs, renewal window).", Required = true };
        var verbose = new Option<bool>("--verbose") { Description = "Log what the fetcher does." };
        StoreOptions store = StoreOptions.Create("Share responses through a directory (several hosts renewing the same certificates ask the responder once); or --redis / --postgres.");
        OutboundProxyArguments proxy = OutboundProxyArguments.Create();
        var socket = new Option<string?>("--haproxy-socket")
        {
            Description = "Push each renewed response to a running HAProxy through its stats socket (level admin; a unix socket path or host:port), "
                + "for every certificate whose configuration entry names no \"haproxy-socket\" of its own: pushed files need no reload.",
        };
        var command = new Command(
            "renew",
            "Renew the response files that are inside the renewal window (install only valid, good responses), and the CRL files (install only a valid, newer CRL). "
            + "Exit code: 0 nothing to reload (nothing changed, "
            + "or every change pushed to HAProxy), 1-63 that many changed files to reload, 64 configuration error, 65/66 unusable or missing certificate, "
            + "69 a fetch failed and nothing needs a reload, 73 cannot write, 75 a push to HAProxy failed (its file is written: reload).")
        {
            config, verbose, socket,
        };
        store.AddTo(command);
        proxy.AddTo(command);
        command.SetAction((result, cancellationToken) => ToolRunner.RunAsync(() =>
        {
            StoreOptions.Choice shared = store.Parse(result);
            Action<OcspStaplingOptions> outbound = proxy.Parse(result);
            HaProxySocket? haproxy = result.GetValue(socket) is { } address ? HaProxySocket.Parse(address, "--haproxy-socket") : null;
            return RunAsync(RenewConfiguration.Load(result.GetValue(config)!), result.GetValue(verbose), shared.IsNone ? null : shared, outbound, haproxy, cancellationToken);
        }));
        return command;
    }

    private static async Task<int> RunAsync(
        RenewConfiguration configuration,
        bool verbose,
        StoreOptions.Choice? store,
        Action<OcspStaplingOptions> outbound,
        HaProxySocket? haproxy,
        CancellationToken cancellationToken)
    {
        int changed = 0, toReload = 0, pushFailed = 0;
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
                        throw new ToolException(
                            ExitCodes.FetchFailed,
                            $"{entry.Output}: not renewed, {why}; {(File.Exists(entry.Output) ? "the existing file is left as it was" : "no file written")}.");
                    }

                    ResponseFiles.WriteAtomically(entry.Output, staple.Encoded.Span, configuration.Backup);
                    changed++;
                    string renewed = $"{entry.Output}: renewed ({ResponseFiles.Describe(staple)})";
                    if ((entry.HaProxySocket ?? haproxy) is not { } target)
                    {
                        toReload++;
                        Console.WriteLine($"{renewed}; reload the server to load it");
                    }
                    else if (await target.PushAsync(staple.Encoded, cancellationToken).ConfigureAwait(false) is { } refused)
                    {
                        pushFailed++;
                        await Console.Error.WriteLineAsync($"ocsp-stapling: {renewed}, but not pushed ({refused}); reload HAProxy to load it.").ConfigureAwait(false);
                    }
                    else
                    {
                        Console.WriteLine($"{renewed}; pushed to HAProxy at {target.Address}, no reload needed");
                    }
                }
                catch (ToolException ex)
                {
                    await Console.Error.WriteLineAsync("ocsp-stapling: " + ex.Message).ConfigureAwait(false);
                    error ??= ex.ExitCode;
                }
            }
        }

        if (configuration.Crls.Count > 0)
        {
            await using var fetcher = new ResponseFetcher(null, verbose, null, outbound);
            foreach (CrlFileEntry entry in configuration.Crls)
            {
                try
                {
                    switch (await RenewCrlAsync(entry, fetcher, configuration.Backup, haproxy, cancellationToken).ConfigureAwait(false))
                    {
                        case CrlOutcome.Reload: changed++; toReload++; break;
                        case CrlOutcome.Pushed: changed++; break;
                        case CrlOutcome.PushFailed: changed++; pushFailed++; break;
                    }
                }
                catch (ToolException ex)
                {
                    await Console.Error.WriteLineAsync("ocsp-stapling: " + ex.Message).ConfigureAwait(false);
                    error ??= ex.ExitCode;
                }
            }
        }

        // Files to reload win: the server must load them now; failed fetches are retried (and reported) on the next run.
        // A failed push is its own code (a reload loads everything anyway); pushed files need nothing.
        if (pushFailed > 0)
        {
            Console.WriteLine($"{changed} file(s) changed, {pushFailed} of them not pushed to HAProxy: reload it.");
            return ExitCodes.PushFailed;
        }

        if (toReload > 0)
        {
            Console.WriteLine($"{changed} file(s) changed, {toReload} to reload{(toReload < changed ? $" ({changed - toReload} pushed to HAProxy)" : "")}: reload the server.");
            return Math.Min(toReload, ExitCodes.MaxChanged);
        }

        if (changed > 0)
        {
            Console.WriteLine($"{changed} file(s) changed, all pushed to HAProxy: no reload needed.");
        }

        return error ?? ExitCodes.Ok;
    }

    private enum CrlOutcome
    {
        Kept,
        Reload,
        Pushed,
        PushFailed,
    }

    /// <summary>
    /// One CRL file: the CA's CRL fetched and validated (never older than the file's), written (PEM, atomically) only when
    /// newer than the file's, then pushed to HAProxy (<c>set ssl crl-file</c> + <c>commit</c>) or left for a reload.
    /// </summary>
    private static async Task<CrlOutcome> RenewCrlAsync(CrlFileEntry entry, ResponseFetcher fetcher, bool backup, HaProxySocket? haproxy, CancellationToken cancellationToken)
    {
        X509Certificate2 ca = CertificatePair.LoadAuthorities(entry.Ca) is [X509Certificate2 first, ..] ? first
            : throw new ToolException(ExitCodes.BadInput, $"{entry.Output}: '{entry.Ca}' holds no CA certificate.");
        ParsedCrl? current = CrlFiles.Read(entry.Output, ca, entry.Url);
        (ParsedCrl? fetched, string? failure) = await fetcher.FetchCrlAsync(ca, entry.Url, current, cancellationToken).ConfigureAwait(false);
        if (fetched is null)
        {
            throw new ToolException(
                ExitCodes.FetchFailed,
                $"{entry.Output}: not renewed, {failure}; {(File.Exists(entry.Output) ? "the existing file is left as it was" : "no file written")}.");
        }

        if (current is not null && (current.Encoded.AsSpan().SequenceEqual(fetched.Encoded) || !CrlFiles.IsNewer(fetched, current)))
        {
            Console.WriteLine($"{entry.Output}: kept ({CrlFiles.Describe(current)}; {entry.Url} serves no newer one)");
            return CrlOutcome.Kept;
        }

        string pem = CrlFiles.ToPem(fetched.Encoded);
        ResponseFiles.WriteAtomically(entry.Output, System.Text.Encoding.ASCII.GetBytes(pem), backup);
        string renewed = $"{entry.Output}: renewed ({CrlFiles.Describe(fetched)})";
        if ((entry.HaProxySocket ?? haproxy) is not { } target)
        {
            Console.WriteLine($"{renewed}; reload the server to load it");
            return CrlOutcome.Reload;
        }

        if (await target.PushCrlAsync(Path.GetFullPath(entry.Output), pem, cancellationToken).ConfigureAwait(false) is { } refused)
        {
            await Console.Error.WriteLineAsync($"ocsp-stapling: {renewed}, but not pushed ({refused}); reload HAProxy to load it.").ConfigureAwait(false);
            return CrlOutcome.PushFailed;
        }

        Console.WriteLine($"{renewed}; pushed to HAProxy at {target.Address}, no reload needed");
        return CrlOutcome.Pushed;
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
