using System.Diagnostics.Metrics;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace Ocsp.Stapling.Internal;

/// <summary>
/// <see cref="OcspClientCertificateValidator"/> over <see cref="OnDemandCertificates"/>: each certificate of a verified
/// chain below its root is an entry there (one group for all, capped by <see cref="OcspClientCertificateOptions.MaxCertificates"/>),
/// decided from its held answer when that is fresh enough for the policy, else by a request (waited for, or started in
/// the background), else by the policy's failure mode. A chain is accepted when every certificate checked is.
/// Decisions are logged once per certificate, reason and outcome, counted, and the last one kept for the status page;
/// the same decision as the last one is handed out again, so the steady state allocates no decision.
/// </summary>
internal sealed partial class ClientCertificateValidator : OcspClientCertificateValidator, IDisposable
{
    private readonly OnDemandCertificates _certificates;
    private readonly OnDemandGroup _group;
    private readonly OcspFetchOptions _fetch;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Counter<long> _checks;
    private readonly ClientCrls _crls;

    public ClientCertificateValidator(
        OcspResponseProvider provider, OcspFetchOptions fetch, OcspClientCertificateOptions options, OcspStaplingMetrics metrics, TimeProvider time, ILogger logger,
        ClientCrls crls)
    {
        _crls = crls;
        _fetch = fetch;
        _time = time;
        _logger = logger;
        _checks = metrics.ClientCertificateChecks;
        Refusals = new ClientCertificateRefusals(logger, time, _checks);
        _group = new OnDemandGroup("client certificates", options.MaxCertificates);
        _certificates = new OnDemandCertificates(
            provider,
            new OnDemandSettings(options.IdleTime, options.UnknownCacheTime, options.FailureRetryTime, options.MaxCertificates),
            new OnDemandEvents
            {
                Evicted = entry => Log.ClientCertificateEvicted(logger, entry.DisplayName, options.MaxCertificates),
                Forgotten = count => Log.ClientCertificatesForgotten(logger, count, options.IdleTime),
            },
            time);
    }

    /// <summary>Gets the log of certificates refused before any revocation check (the chain), once per certificate and reason.</summary>
    public ClientCertificateRefusals Refusals { get; }

    /// <summary>Gets the number of certificates kept (client certificates and the CAs of their chains).</summary>
    public int Count => _certificates.Count;

    /// <summary>Gets the certificates learned on demand behind the checks (tests, the state-concurrency test).</summary>
    internal OnDemandCertificates Certificates => _certificates;

    /// <summary>Gets the CRLs behind the checks (tests).</summary>
    internal ClientCrls Crls => _crls;

    /// <summary>Whether <paramref name="certificateId"/> is a registration of these checks (the status page lists those apart).</summary>
    public bool IsClientCertificate(OcspCertificateId certificateId) => _certificates.Contains(certificateId);

    /// <summary>Completes when the requests (and CRL fetches) under way for <paramref name="chain"/> (if any) have their answers (tests wait for the background requests of a TLS-level check).</summary>
    internal Task WhenAnsweredAsync(IReadOnlyList<X509Certificate2> chain)
    {
        var waits = new List<Task>();
        for (int i = 0; i + 1 < chain.Count; i++)
        {
            OcspCertificateId id = OcspCertificateId.Create(chain[i], chain[i + 1]);
            if (_certificates.FlightOf(id) is { } flight)
            {
                waits.Add(flight.Result);
            }

            if (_certificates.Find(id)?.Notes is Notes { Crl: { } crl })
            {
                waits.Add(crl.Pending);
            }
        }

        return Task.WhenAll(waits);
    }

    public override async ValueTask<OcspClientCertificateDecision> CheckAsync(
        IReadOnlyList<X509Certificate2> chain, OcspClientCertificatePolicy policy, CancellationToken cancellationToken = default)
    {
        Checked checking = Begin(chain, policy, out DateTimeOffset now);
        for (int pass = 0; pass < 2; pass++)
        {
            for (int i = 0; i < checking.Count; i++)
            {
                // One bound for the whole chain: the requests run side by side.
                TimeSpan left = policy.FirstAnswerTimeout - _time.GetElapsedTime(checking.Started);
                left = left > TimeSpan.Zero ? left : TimeSpan.Zero;
                try
                {
                    if (checking[i].Flight is { } flight)
                    {
                        OnDemandAnswer answer = await flight.Result.WaitAsync(left, _time, cancellationToken).ConfigureAwait(false);
                        checking[i] = Verdict.Of(answer, now - policy.MaxAnswerAge);
                    }
                    else if (checking[i].CrlFlight is { } crlFlight)
                    {
                        checking[i] = FromCrlAnswer(checking.Entries[i]!, await crlFlight.WaitAsync(left, _time, cancellationToken).ConfigureAwait(false), now);
                    }
                }
                catch (TimeoutException)
                {
                    checking[i] = Verdict.None(OcspClientCertificateReason.Timeout, $"no answer within {policy.FirstAnswerTimeout.TotalSeconds:0.###} s (still asking)");
                }
            }

            if (pass == 0 && !Fallback(checking, policy, now))
            {
                break; // no CRL to fall back on: decided
            }
        }

        return Decide(checking, policy);
    }

    public override OcspClientCertificateDecision Check(IReadOnlyList<X509Certificate2> chain, OcspClientCertificatePolicy policy)
    {
        Checked checking = Begin(chain, policy, out DateTimeOffset now);
        for (int pass = 0; pass < 2; pass++)
        {
            for (int i = 0; i < checking.Count; i++)
            {
                // The shared store only: wait until the request has its answer or has gone past the store, up to StoreWaitTime in all.
                TimeSpan left = policy.StoreWaitTime - _time.GetElapsedTime(checking.Started);
                if (checking[i].Flight is { } flight)
                {
                    if (!flight.Result.IsCompleted && left > TimeSpan.Zero)
                    {
                        WaitBlocking(Task.WhenAny(flight.Result, flight.Milestone), left);
                    }

                    checking[i] = flight.Result.IsCompletedSuccessfully
                        ? Verdict.Of(flight.Result.Result, now - policy.MaxAnswerAge)
                        : Verdict.None(OcspClientCertificateReason.Pending, "none held; asking the responder in the background");
                }
                else if (checking[i].CrlFlight is { } crlFlight)
                {
                    if (!crlFlight.IsCompleted && left > TimeSpan.Zero)
                    {
                        WaitBlocking(Task.WhenAny(crlFlight, checking[i].CrlStoreRead!), left);
                    }

                    checking[i] = crlFlight.IsCompletedSuccessfully
                        ? FromCrlAnswer(checking.Entries[i]!, crlFlight.Result, now)
                        : Verdict.None(OcspClientCertificateReason.Pending, "no CRL held; fetching it in the background");
                }
            }

            if (pass == 0 && !Fallback(checking, policy, now))
            {
                break;
            }
        }

        return Decide(checking, policy);
    }

    public override async Task<bool> RecheckAsync(X509Certificate2 certificate, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        foreach (OnDemandEntry entry in _certificates.Entries)
        {
            if (entry.Certificate is { } kept && kept.RawDataMemory.Span.SequenceEqual(certificate.RawDataMemory.Span))
            {
                OnDemandAnswer answer = await _certificates.RecheckAsync(entry).WaitAsync(cancellationToken).ConfigureAwait(false);
                Log.ClientCertificateRechecked(_logger, entry.DisplayName, answer.Response?.Status.ToString() ?? $"no valid answer ({answer.Reason})");
                return true;
            }
        }

        return false;
    }

    public override IReadOnlyList<OcspClientCertificateState> GetStates()
    {
        DateTimeOffset now = _time.GetUtcNow();
        var states = new List<OcspClientCertificateState>(_certificates.Count);
        foreach (OnDemandEntry entry in _certificates.Entries)
        {
            if (entry.Certificate is { } certificate)
            {
                OnDemandState state = entry.State;
                states.Add(new OcspClientCertificateState(
                    certificate, entry.Id, _certificates.ValidResponse(entry, now), new DateTimeOffset(entry.LastUsed, TimeSpan.Zero), (entry.Notes as Notes)?.Last?.Decision, state.Failure));
            }
        }

        return states;
    }

    public override IReadOnlyList<OcspCrlState> GetCrlStates() => _crls.GetStates();

    public void Dispose() => _certificates.Dispose();

    /// <summary>Kernel wait on the system clock (no pool thread needed to end it, however many handshakes block at once); on another clock (a test's), a bound on that clock.</summary>
    private void WaitBlocking(Task task, TimeSpan bound)
    {
        if (_time == TimeProvider.System)
        {
            task.Wait(bound);
            return;
        }

        using var timeout = new CancellationTokenSource(bound, _time);
        Task.WhenAny(task, Task.Delay(Timeout.Infinite, timeout.Token)).Wait(CancellationToken.None);
    }

    /// <summary>
    /// What both checks do first: each certificate to check gets its entry; a fresh answer held decides it at once (one
    /// getting old is asked again in the background), as does one that names no responder or failed within the retry
    /// time; for the others, the request to wait for.
    /// </summary>
    private Checked Begin(IReadOnlyList<X509Certificate2> chain, OcspClientCertificatePolicy policy, out DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(chain);
        ArgumentNullException.ThrowIfNull(policy);
        if (chain.Count == 0 || chain[0] is null)
        {
            throw new ArgumentException("The chain is empty: it starts with the client certificate.", nameof(chain));
        }

        now = _time.GetUtcNow();
        int count = chain.Count < 2 ? 0 : policy.Scope == OcspRevocationScope.LeafOnly ? 1 : chain.Count - 1;
        var checking = new Checked(chain[0], count, _time.GetTimestamp());
        DateTimeOffset oldest = now - policy.MaxAnswerAge;
        for (int i = 0; i < count; i++)
        {
            OnDemandEntry entry = Enter(chain[i], chain[i + 1]);
            checking.Entries[i] = entry;
            if (CrlFirst(entry, policy))
            {
                checking[i] = CrlVerdict(entry, now);
            }
            else if (_certificates.ValidResponse(entry, now, oldest) is { } held)
            {
                // Fresh enough; past three quarters of the bound it is asked again in the background, so one in use never gets too old.
                if (held.FetchedAtBy(now) < now - (policy.MaxAnswerAge * 3 / 4) && _certificates.MayAsk(entry, now, out _))
                {
                    _certificates.Ask(entry, notBefore: now - (policy.MaxAnswerAge / 4));
                }

                checking[i] = Verdict.Of(held);
            }
            else if (!_certificates.MayAsk(entry, now, out OnDemandAnswer? refusal))
            {
                checking[i] = entry.Responders.Count == 0
                    ? Verdict.None(OcspClientCertificateReason.NoResponder, refusal!.Reason)
                    : Verdict.None(OcspClientCertificateReason.NoAnswer, refusal!.Reason);
            }
            else
            {
                checking[i] = Verdict.Asking(_certificates.Ask(entry, notBefore: oldest));
            }
        }

        return checking;
    }

    /// <summary>The entry of <paramref name="certificate"/> issued by <paramref name="issuer"/>, made with copies of both (a TLS layer disposes the ones it hands to its callback once the handshake is over).</summary>
    private OnDemandEntry Enter(X509Certificate2 certificate, X509Certificate2 issuer)
    {
        CertificateNames.EnsureIssuedBy(certificate, issuer, "chain");
        return _certificates.Enter(
            OcspCertificateId.Create(certificate, issuer),
            (Validator: this, Certificate: certificate, Issuer: issuer),
            static (id, c, now) =>
            {
                X509Certificate2 client = X509CertificateLoader.LoadCertificate(c.Certificate.RawDataMemory.Span);
                X509Certificate2 ca = X509CertificateLoader.LoadCertificate(c.Issuer.RawDataMemory.Span);
                Registration target = Registration.Create(client, ca, c.Validator._fetch);
                return new OnDemandEntry(id, ca, target.HasResponder ? target.ResponderUris : [], c.Validator._group, now, client)
                {
                    Notes = new Notes(CrlDistributionPoints.Of(client)),
                };
            });
    }
}
