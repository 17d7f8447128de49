using Microsoft.Extensions.Logging;

namespace Ocsp.Stapling.Internal;

/// <summary>
/// The TLS component's start-up, once the provider has loaded the shared store and before the server accepts
/// connections: runs what servers with late contexts asked to run first (Kestrel's configuration endpoints), prepares
/// every context with a staple under one deadline, logs must-staple certificates still without one, and refuses to
/// finish start-up without the staples that were required.
/// </summary>
internal sealed class StartupGate(IStapledContexts contexts, OcspTlsOptions options, TimeProvider time, ILogger logger)
{
    private readonly object _gate = new();
    private readonly List<Action> _beforeStart = [];
    private readonly List<(OcspStapledCertificate Certificate, TimeSpan Timeout)> _required = [];
    private volatile bool _started;

    /// <summary>Gets a value indicating whether start-up is over: contexts created from now on are served at once.</summary>
    public bool HasStarted => _started;

    /// <summary>Runs <paramref name="action"/> at start-up, before the certificates are prepared; after start-up, at once.</summary>
    public void RunBeforeStart(Action action)
    {
        lock (_gate)
        {
            if (!_started)
            {
                _beforeStart.Add(action);
                return;
            }
        }

        action();
    }

    /// <summary>Makes start-up refuse to complete until <paramref name="certificate"/> has a valid staple, waited for up to <paramref name="timeout"/>.</summary>
    public void RequireStaple(OcspStapledCertificate certificate, TimeSpan timeout)
    {
        lock (_gate)
        {
            if (!_started)
            {
                _required.Add((certificate, timeout));
                return;
            }
        }

        Log.StapleRequiredAfterStart(logger, certificate.DisplayName);
    }

    /// <summary>A certificate's staple after start-up, as the log says it: its status and source, or why there is none.</summary>
    internal static string Describe(OcspStapledCertificate entry, OcspCertificateState? state) =>
        entry.ServedStaple is { } staple
            ? $"{staple.Status} from {state?.StapleSource?.ToString() ?? "memory"}, nextUpdate {staple.NextUpdate:u}"
            : state is { HasResponder: false } ? "none: the certificate has no OCSP responder (served without a staple)"
            : state?.LastFailure is { } failure ? $"none yet: {failure}; retrying at {state.NextRefresh:u}"
            : "none yet: no answer within the start-up bound; the fetch goes on in the background";

    /// <exception cref="InvalidOperationException">A required certificate has no staple within its timeout.</exception>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        Action[] beforeStart;
        lock (_gate)
        {
            beforeStart = [.. _beforeStart];
            _beforeStart.Clear();
        }

        // Contexts created by these (Kestrel's configuration endpoints) are prepared with the others below.
        foreach (Action action in beforeStart)
        {
            action();
        }

        (OcspStapledCertificate Certificate, TimeSpan Timeout)[] required;
        lock (_gate)
        {
            _started = true;
            required = [.. _required];
            _required.Clear();
        }

        // Cold start: every certificate gets the shared store's staple, else the responder's first answer, all at once
        // and under one deadline, so that the server starts listening with its certificates stapled, or after the bound.
        OcspStapledCertificate[] entries = [.. contexts.Certificates.Where(e => e.IsStapling)];
        int waited = 0;
        using (var deadline = new CancellationTokenSource(options.StartupFetchTimeout, time))
        {
            await Parallel.ForEachAsync(
                entries,
                new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = cancellationToken },
                async (entry, token) =>
                {
                    if (await contexts.PrepareUntilAsync(entry, deadline.Token, token).ConfigureAwait(false))
                    {
                        Interlocked.Increment(ref waited);
                    }
                }).ConfigureAwait(false);
        }

        // Once per certificate, what start-up achieved: where its staple came from, or why it has none yet.
        foreach (OcspStapledCertificate entry in entries)
        {
            Log.StapleAtStartup(logger, entry.DisplayName, Describe(entry, contexts.GetState(entry)));
        }

        if (entries.Length > 0)
        {
            Log.StartupPrepared(logger, entries.Count(e => e.ServedStaple is not null), entries.Length, waited, options.StartupFetchTimeout);
        }

        foreach (OcspStapledCertificate entry in entries)
        {
            if (entry.IsMustStaple && entry.ServedStaple is null && !required.Any(r => ReferenceEquals(r.Certificate, entry)))
            {
                Log.MustStapleWithoutStaple(logger, entry.DisplayName);
            }
        }

        foreach ((OcspStapledCertificate entry, TimeSpan timeout) in required)
        {
            if (entry.ServedStaple is null && entry.IsStapling)
            {
                using var limit = new CancellationTokenSource(timeout, time);
                await contexts.PrepareUntilAsync(entry, limit.Token, cancellationToken).ConfigureAwait(false);
            }

            if (entry.ServedStaple is null)
            {
                throw new InvalidOperationException(
                    $"Must-staple certificate {entry.DisplayName} has no valid OCSP staple after {timeout} and a staple is required at start-up: " +
                    $"refusing to start. {entry.NotStaplingDetail ?? "See the OCSP log entries for the cause."}");
            }
        }
    }
}
