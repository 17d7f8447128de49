using System.Diagnostics.Metrics;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Ocsp.Stapling.Internal;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tests.Clients;

/// <summary>
/// Client-certificate revocation checks (<see cref="OcspClientCertificateValidator"/>) on the fake clock against the
/// test responder: each policy's decision for good, revoked, unknown, down and garbage answers; one upstream request per
/// certificate however many checks; the shared store between two servers; timeouts, retries, idle forgetting and the cap.
/// </summary>
public sealed class ClientCertificateValidatorTests(ResponderFixture fixture) : IClassFixture<ResponderFixture>
{
    private static readonly OcspClientCertificatePolicy FailClosed = new();
    private static readonly OcspClientCertificatePolicy FailOpen = new() { FailureMode = OcspClientFailureMode.FailOpen };
    private readonly FakeTimeProvider _time = fixture.Reset();
    private readonly TestOcspResponder _responder = fixture.Responder;
    private readonly X509Certificate2 _issuer = fixture.Pki.Intermediate;

    [Fact]
    public async Task Good_IsAccepted_AThousandConcurrentChecksCauseOneUpstreamRequest_ThenSyncChecksFromMemory()
    {
        using ProviderHost host = Host(o => o.ClientCertificates.IdleTime = TimeSpan.FromDays(7));
        X509Certificate2 client = fixture.NewLeaf("client-good");
        OcspClientCertificateValidator validator = Validator(host);

        OcspClientCertificateDecision[] decisions = await Task.WhenAll(
            Enumerable.Range(0, 1000).Select(_ => validator.CheckAsync([client, _issuer], FailClosed).AsTask()));

        Assert.All(decisions, d => Assert.True(d.IsAccepted && d.Reason == OcspClientCertificateReason.Good, d.Message));
        Assert.Equal(1, _responder.RequestCount);
        for (int i = 0; i < 1000; i++)
        {
            Assert.True(validator.Check([client, _issuer], FailClosed).IsAccepted);
        }

        Assert.Equal(1, _responder.RequestCount);
        OcspClientCertificateState state = Assert.Single(validator.GetStates());
        Assert.Equal(OcspCertificateStatus.Good, state.Response!.Status);
        Assert.Equal(OcspClientCertificateReason.Good, state.LastDecision!.Reason);

        // Kept and refreshed by the provider as any registration: due at its refresh point, asked again then.
        OcspCertificateState registration = host.Provider.GetState(state.CertificateId)!;
        _time.SetUtcNow(registration.NextRefresh!.Value);
        await host.RunDueAsync(CancellationToken.None);
        Assert.Equal(2, _responder.RequestCount);
    }

    [Theory]
    [InlineData(OcspClientFailureMode.FailClosed)]
    [InlineData(OcspClientFailureMode.FailOpen)]
    public async Task Revoked_IsRejected_WhateverTheFailureMode(OcspClientFailureMode mode)
    {
        using ProviderHost host = Host();
        X509Certificate2 client = fixture.NewLeaf("client-revoked");
        _responder.Revoke(client, _time.GetUtcNow().AddDays(-1));
        var policy = new OcspClientCertificatePolicy { FailureMode = mode };

        OcspClientCertificateDecision first = await Validator(host).CheckAsync([client, _issuer], policy);
        OcspClientCertificateDecision again = Validator(host).Check([client, _issuer], policy);

        Assert.False(first.IsAccepted);
        Assert.Equal(OcspClientCertificateReason.Revoked, first.Reason);
        Assert.Contains("revoked since", first.Message, StringComparison.Ordinal);
        Assert.False(again.IsAccepted);
        Assert.Equal(1, _responder.RequestCount);
    }

    [Fact]
    public async Task Unknown_IsRejectedUnlessThePolicyAcceptsIt_AndKeptWithoutAnotherRequest()
    {
        using ProviderHost host = Host();
        X509Certificate2 client = fixture.NewLeaf("client-unknown");
        _responder.Fault = ResponderFault.Unknown;

        OcspClientCertificateDecision rejected = await Validator(host).CheckAsync([client, _issuer], FailOpen);
        OcspClientCertificateDecision accepted = await Validator(host).CheckAsync([client, _issuer], new() { AcceptUnknown = true });

        Assert.False(rejected.IsAccepted);
        Assert.Equal(OcspClientCertificateReason.Unknown, rejected.Reason);
        Assert.True(accepted.IsAccepted);
        Assert.Equal(1, _responder.RequestCount);
        Assert.Null(host.Provider.GetState(OcspCertificateId.Create(client, _issuer))); // not a registration: never refreshed

        _time.Advance(TimeSpan.FromMinutes(11)); // past UnknownCacheTime: asked again
        _responder.Fault = ResponderFault.None;
        Assert.True((await Validator(host).CheckAsync([client, _issuer], FailClosed)).IsAccepted);
        Assert.Equal(2, _responder.RequestCount);
    }

    [Theory]
    [InlineData(ResponderFault.Down)]
    [InlineData(ResponderFault.Http500)]
    [InlineData(ResponderFault.HtmlBody)]
    [InlineData(ResponderFault.Garbage)]
    [InlineData(ResponderFault.WrongSigner)]
    [InlineData(ResponderFault.WrongSerial)]
    [InlineData(ResponderFault.Expired)]
    [InlineData(ResponderFault.BadSignature)]
    [InlineData(ResponderFault.TryLater)]
    public async Task NoValidAnswer_FailClosedRejects_FailOpenAccepts_AndNothingIsAskedAgainWithinTheRetryTime(ResponderFault fault)
    {
        using ProviderHost host = Host();
        X509Certificate2 client = fixture.NewLeaf("client-fault");
        _responder.Fault = fault;
        OcspClientCertificateValidator validator = Validator(host);

        OcspClientCertificateDecision closed = await validator.CheckAsync([client, _issuer], FailClosed);
        int asked = _responder.RequestCount;
        OcspClientCertificateDecision open = await validator.CheckAsync([client, _issuer], FailOpen);
        OcspClientCertificateDecision sync = validator.Check([client, _issuer], FailClosed);

        Assert.False(closed.IsAccepted);
        Assert.Equal(OcspClientCertificateReason.NoAnswer, closed.Reason);
        Assert.Contains("fail-closed", closed.Message, StringComparison.Ordinal);
        Assert.True(open.IsAccepted);
        Assert.Equal(OcspClientCertificateReason.NoAnswer, open.Reason);
        Assert.False(sync.IsAccepted);
        Assert.Null(closed.Response);
        Assert.Equal(asked, _responder.RequestCount); // within FailureRetryTime: no new request
        Assert.Null(host.Provider.GetState(OcspCertificateId.Create(client, _issuer)));
        Assert.NotNull(Assert.Single(validator.GetStates()).LastFailure);

        // After the retry time, with the responder back: a real answer.
        _responder.Fault = ResponderFault.None;
        _time.Advance(TimeSpan.FromSeconds(6));
        Assert.True((await validator.CheckAsync([client, _issuer], FailClosed)).IsAccepted);
    }

    [Fact]
    public async Task SlowResponder_AsyncCheckWaitsUpToTheBound_ThenTheAnswerDecidesTheNextCheck()
    {
        using ProviderHost host = Host(o => o.Fetch.TotalTimeout = TimeSpan.FromMinutes(5));
        X509Certificate2 client = fixture.NewLeaf("client-slow");
        _responder.Fault = ResponderFault.Slow;
        OcspClientCertificateValidator validator = Validator(host);

        ValueTask<OcspClientCertificateDecision> waiting = validator.CheckAsync([client, _issuer], new() { FirstAnswerTimeout = TimeSpan.FromSeconds(2) });
        await _responder.WhenRequestCountAsync(1);
        _time.Advance(TimeSpan.FromSeconds(2));
        OcspClientCertificateDecision timedOut = await waiting;

        Assert.False(timedOut.IsAccepted);
        Assert.Equal(OcspClientCertificateReason.Timeout, timedOut.Reason);
        _responder.Fault = ResponderFault.None;
        _responder.ReleaseSlowRequests();
        OcspClientCertificateDecision answered = await validator.CheckAsync([client, _issuer], FailClosed);
        Assert.True(answered.IsAccepted, answered.Message);
        Assert.Equal(1, _responder.RequestCount);
    }

    [Fact]
    public async Task SyncCheck_NeverSeen_DecidedByTheFailureMode_WithTheRequestInTheBackground_TheNextCheckByTheAnswer()
    {
        using ProviderHost host = Host();
        X509Certificate2 client = fixture.NewLeaf("client-sync");
        _responder.Fault = ResponderFault.Slow; // the responder answers after the handshake is decided
        OcspClientCertificateValidator validator = Validator(host);

        OcspClientCertificateDecision first = validator.Check([client, _issuer], FailClosed);

        Assert.False(first.IsAccepted);
        Assert.Equal(OcspClientCertificateReason.Pending, first.Reason);
        await _responder.WhenRequestCountAsync(1);
        _responder.Fault = ResponderFault.None;
        _responder.ReleaseSlowRequests();
        await host.Logs.WhenAsync(e => e.EventId == Log.CertificateRegisteredId && e.Message.Contains(": Good from Responder", StringComparison.Ordinal));
        OcspClientCertificateDecision next = validator.Check([client, _issuer], FailClosed);
        Assert.True(next.IsAccepted, next.Message);
        Assert.Equal(1, _responder.RequestCount);
    }

    [Fact]
    public async Task TwoServersOnOneStore_AskTheResponderOnceBetweenThem_TheSecondDecidesSynchronouslyFromTheStore()
    {
        // On the fake clock: entries expire at their nextUpdate by the test's time, not the machine's.
        var store = new MemoryDistributedCache(Options.Create(new MemoryDistributedCacheOptions { Clock = new Clock(_time) }));
        using ProviderHost first = Host(store: store);
        using ProviderHost second = Host(store: store);
        X509Certificate2 client = fixture.NewLeaf("client-fleet");

        Assert.True((await Validator(first).CheckAsync([client, _issuer], FailClosed)).IsAccepted);
        _responder.Fault = ResponderFault.Down;
        OcspClientCertificateDecision fromStore = Validator(second).Check([client, _issuer], FailClosed);

        Assert.True(fromStore.IsAccepted, fromStore.Message);
        Assert.Equal(1, _responder.RequestCount);
        Assert.Equal(OcspStapleSource.SharedStore, second.Provider.GetState(OcspCertificateId.Create(client, _issuer))!.StapleSource);
    }

    [Fact]
    public async Task NoResponder_DecidedByTheFailureMode_WithoutARequest()
    {
        using ProviderHost host = Host();
        X509Certificate2 client = fixture.NewLeaf("client-no-aia", withOcspUrl: false);

        OcspClientCertificateDecision closed = await Validator(host).CheckAsync([client, _issuer], FailClosed);
        OcspClientCertificateDecision open = Validator(host).Check([client, _issuer], FailOpen);

        Assert.Equal((false, OcspClientCertificateReason.NoResponder), (closed.IsAccepted, closed.Reason));
        Assert.Equal((true, OcspClientCertificateReason.NoResponder), (open.IsAccepted, open.Reason));
        Assert.Equal(0, _responder.RequestCount);
    }

    [Fact]
    public async Task NotSeenForTheIdleTime_IsForgotten_AndAtTheCapTheLeastRecentlyCheckedIsEvicted()
    {
        using ProviderHost host = Host(o =>
        {
            o.ClientCertificates.IdleTime = TimeSpan.FromHours(8);
            o.ClientCertificates.MaxCertificates = 2;
        });
        var validator = host.Services.GetRequiredService<ClientCertificateValidator>();
        X509Certificate2[] clients = [fixture.NewLeaf("client-lru-a"), fixture.NewLeaf("client-lru-b"), fixture.NewLeaf("client-lru-c")];

        await validator.CheckAsync([clients[0], _issuer], FailClosed);
        _time.Advance(TimeSpan.FromMinutes(1));
        await validator.CheckAsync([clients[1], _issuer], FailClosed);
        _time.Advance(TimeSpan.FromMinutes(1));
        validator.Check([clients[0], _issuer], FailClosed); // a is now more recent than b
        await validator.CheckAsync([clients[2], _issuer], FailClosed);

        Assert.Equal(2, validator.Count);
        Assert.DoesNotContain(validator.GetStates(), s => s.Certificate.SerialNumber == clients[1].SerialNumber);
        Assert.Null(host.Provider.GetState(OcspCertificateId.Create(clients[1], _issuer))); // no longer refreshed
        Assert.Contains(host.Logs.Entries, e => e.EventId == Log.ClientCertificateEvictedId);

        _time.Advance(TimeSpan.FromHours(9)); // the sweep runs on the clock (every hour here)
        await validator.Certificates.LastSweep;
        Assert.Equal(0, validator.Count);
        Assert.Empty(host.Provider.GetStates());
        Assert.Contains(host.Logs.Entries, e => e.EventId == Log.ClientCertificatesForgottenId);
    }

    [Fact]
    public async Task Decisions_AreLoggedOncePerCertificateAndReason_AndCountedWithBoundedTags()
    {
        using ProviderHost host = Host();
        X509Certificate2 good = fixture.NewLeaf("client-log-good");
        X509Certificate2 revoked = fixture.NewLeaf("client-log-revoked");
        _responder.Revoke(revoked, _time.GetUtcNow().AddHours(-1));
        var counted = new List<(long Value, string Decision, string Reason)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter == host.Metrics.Meter && instrument.Name == "ocsp.stapling.client_certificate.checks")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            lock (counted)
            {
                counted.Add((value, Tag(tags, "decision"), Tag(tags, "reason")));
            }
        });
        listener.Start();

        for (int i = 0; i < 10; i++)
        {
            await Validator(host).CheckAsync([good, _issuer], FailClosed);
            await Validator(host).CheckAsync([revoked, _issuer], FailClosed);
        }

        LogEntry[] decided = [.. host.Logs.Entries.Where(e => e.EventId == Log.ClientCertificateDecidedId)];
        Assert.Equal(2, decided.Length);
        Assert.Contains(decided, e => e.Level == LogLevel.Information && e.Message.Contains("accepted: good", StringComparison.Ordinal));
        Assert.Contains(decided, e => e.Level == LogLevel.Warning && e.Message.Contains("rejected: revoked", StringComparison.Ordinal));
        Assert.Equal(10, counted.Count(c => c is (1, "accepted", "good")));
        Assert.Equal(10, counted.Count(c => c is (1, "rejected", "revoked")));
    }

    [Theory]
    [InlineData(OcspRevocationScope.WholeChain, false)]
    [InlineData(OcspRevocationScope.LeafOnly, true)]
    public async Task RevokedIntermediate_RefusesTheLeavesUnderIt_UnlessOnlyTheLeafIsChecked(OcspRevocationScope scope, bool accepted)
    {
        using ProviderHost host = Host();
        X509Certificate2 intermediate = fixture.Pki.IssueCa($"Revoked Issuing CA {scope}", fixture.Pki.Root, _responder.Url);
        _responder.AddIssuer(intermediate);
        X509Certificate2 client = fixture.Pki.IssueClient($"client-under-revoked-{scope}", _responder.Url, intermediate);
        _responder.Revoke(intermediate, _time.GetUtcNow().AddDays(-2));
        var policy = new OcspClientCertificatePolicy { Scope = scope };

        OcspClientCertificateDecision first = await Validator(host).CheckAsync([client, intermediate, fixture.Pki.Root], policy);
        OcspClientCertificateDecision again = Validator(host).Check([client, intermediate, fixture.Pki.Root], policy);

        Assert.Equal(accepted, first.IsAccepted);
        Assert.Equal(accepted, again.IsAccepted);
        if (!accepted)
        {
            Assert.Equal(OcspClientCertificateReason.Revoked, first.Reason);
            Assert.Contains($"its CA '{intermediate.Subject}'", first.Message, StringComparison.Ordinal);
            Assert.Contains("is revoked since", first.Message, StringComparison.Ordinal);
        }

        // Asked once each: the client certificate, and (whole chain) its CA, whose answer serves every client under it.
        Assert.Equal(scope == OcspRevocationScope.WholeChain ? 2 : 1, _responder.RequestCount);
        X509Certificate2 sibling = fixture.Pki.IssueClient($"client-sibling-{scope}", _responder.Url, intermediate);
        Assert.Equal(accepted, (await Validator(host).CheckAsync([sibling, intermediate, fixture.Pki.Root], policy)).IsAccepted);
        Assert.Equal(scope == OcspRevocationScope.WholeChain ? 3 : 2, _responder.RequestCount);
    }

    [Fact]
    public async Task IntermediateWithoutAResponder_IsDecidedByTheFailureMode()
    {
        using ProviderHost host = Host();
        X509Certificate2 intermediate = fixture.Pki.IssueCa("Issuing CA without OCSP", fixture.Pki.Root, ocspUrl: null);
        _responder.AddIssuer(intermediate);
        X509Certificate2 client = fixture.Pki.IssueClient("client-under-no-ocsp-ca", _responder.Url, intermediate);

        OcspClientCertificateDecision closed = await Validator(host).CheckAsync([client, intermediate, fixture.Pki.Root], FailClosed);
        OcspClientCertificateDecision open = await Validator(host).CheckAsync([client, intermediate, fixture.Pki.Root], FailOpen);

        Assert.Equal((false, OcspClientCertificateReason.NoResponder), (closed.IsAccepted, closed.Reason));
        Assert.Contains($"its CA '{intermediate.Subject}'", closed.Message, StringComparison.Ordinal);
        Assert.Equal((true, OcspClientCertificateReason.NoResponder), (open.IsAccepted, open.Reason));
        Assert.Equal(1, _responder.RequestCount); // the client certificate only
    }

    [Fact]
    public async Task AnswerOlderThanMaxAnswerAge_CountsAsNone_OneInUseIsAskedAgainBeforeItGetsThere()
    {
        using ProviderHost host = Host();
        X509Certificate2 client = fixture.NewLeaf("client-fresh");
        OcspClientCertificateValidator validator = Validator(host);
        var policy = new OcspClientCertificatePolicy { MaxAnswerAge = TimeSpan.FromHours(1) };
        Assert.True((await validator.CheckAsync([client, _issuer], policy)).IsAccepted);

        // In use: past three quarters of the bound, a check still accepts and asks again in the background.
        _time.Advance(TimeSpan.FromMinutes(50));
        Assert.True(validator.Check([client, _issuer], policy).IsAccepted);
        await _responder.WhenRequestCountAsync(2).WaitAsync(TimeSpan.FromSeconds(30));
        await ((ClientCertificateValidator)validator).WhenAnsweredAsync([client, _issuer]).WaitAsync(TimeSpan.FromSeconds(30));

        // Not in use, and the responder down: once the last answer is over an hour old it counts as none.
        _responder.Fault = ResponderFault.Down;
        _time.Advance(TimeSpan.FromMinutes(59));
        Assert.True(validator.Check([client, _issuer], policy).IsAccepted); // 59 minutes old: still good
        _time.Advance(TimeSpan.FromMinutes(2));
        OcspClientCertificateDecision closed = await validator.CheckAsync([client, _issuer], policy);
        OcspClientCertificateDecision open = await validator.CheckAsync([client, _issuer], new() { MaxAnswerAge = TimeSpan.FromHours(1), FailureMode = OcspClientFailureMode.FailOpen });
        Assert.Equal((false, OcspClientCertificateReason.NoAnswer), (closed.IsAccepted, closed.Reason));
        Assert.Equal((true, OcspClientCertificateReason.NoAnswer), (open.IsAccepted, open.Reason));

        // A looser bound on another endpoint still takes the same answer.
        Assert.True(validator.Check([client, _issuer], new() { MaxAnswerAge = TimeSpan.FromDays(1) }).IsAccepted);
    }

    [Fact]
    public async Task Recheck_TheNextDecisionRestsOnAnAnswerFetchedAfterIt()
    {
        using ProviderHost host = Host();
        X509Certificate2 client = fixture.NewLeaf("client-recheck");
        OcspClientCertificateValidator validator = Validator(host);
        Assert.True((await validator.CheckAsync([client, _issuer], FailClosed)).IsAccepted);
        _responder.Revoke(client, _time.GetUtcNow());
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.True(validator.Check([client, _issuer], FailClosed).IsAccepted); // the held answer, until asked again
        Assert.True(await validator.RecheckAsync(client));
        OcspClientCertificateDecision after = validator.Check([client, _issuer], FailClosed);

        Assert.Equal((false, OcspClientCertificateReason.Revoked), (after.IsAccepted, after.Reason));
        Assert.Equal(2, _responder.RequestCount);
        Assert.Contains(host.Logs.Entries, e => e.EventId == Log.ClientCertificateRecheckedId && e.Message.Contains("Revoked", StringComparison.Ordinal));
        Assert.False(await validator.RecheckAsync(fixture.NewLeaf("client-never-seen")));
    }

    [Fact]
    public async Task FailOpen_AfterAnOutage_ARevokedCertificateIsRefusedWithinSecondsOfTheResponderBeingBack()
    {
        using ProviderHost host = Host(o => o.Fetch.MaxRequestsPerSecondPerHost = 1000);
        X509Certificate2 client = fixture.NewLeaf("client-outage");
        OcspClientCertificateValidator validator = Validator(host);
        _responder.Fault = ResponderFault.Down;

        // Two minutes down, a check a second: accepted by fail-open; the breaker opens and its break grows.
        for (int second = 0; second < 120; second++)
        {
            Assert.True((await validator.CheckAsync([client, _issuer], FailOpen)).IsAccepted);
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        int askedDuringTheOutage = _responder.RequestCount;
        _responder.Revoke(client, _time.GetUtcNow().AddHours(-1));
        _responder.Fault = ResponderFault.None;
        int secondsToRefusal = -1;
        for (int second = 0; second <= 60 && secondsToRefusal < 0; second++)
        {
            if (!(await validator.CheckAsync([client, _issuer], FailOpen)).IsAccepted)
            {
                secondsToRefusal = second;
            }

            _time.Advance(TimeSpan.FromSeconds(1));
        }

        // At most the longest break (15 s) and the retry time (5 s) after it is back; the outage cost a request per retry time at most.
        Assert.InRange(secondsToRefusal, 0, 20);
        Assert.InRange(askedDuringTheOutage, 1, 120 / 5);
    }

    [Fact]
    public async Task TheSameDecisionAsLastTime_IsTheSameObject()
    {
        using ProviderHost host = Host();
        X509Certificate2 client = fixture.NewLeaf("client-same");
        OcspClientCertificateValidator validator = Validator(host);
        await validator.CheckAsync([client, _issuer], FailClosed);

        OcspClientCertificateDecision first = validator.Check([client, _issuer], FailClosed);
        OcspClientCertificateDecision second = validator.Check([client, _issuer], FailClosed);

        Assert.Same(first, second);
        Assert.NotSame(first, validator.Check([client, _issuer], FailOpen)); // the words name the policy
    }

    [Fact]
    public async Task WrongIssuer_IsAnArgumentError()
    {
        using ProviderHost host = Host();
        X509Certificate2 client = fixture.NewLeaf("client-wrong-issuer");

        await Assert.ThrowsAsync<ArgumentException>(() => Validator(host).CheckAsync([client, fixture.Pki.Root], FailClosed).AsTask());
        Assert.Throws<ArgumentException>(() => Validator(host).Check([client, client], FailClosed));
    }

    private static string Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags, string name)
    {
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            if (tag.Key == name)
            {
                return (string)tag.Value!;
            }
        }

        return "";
    }

    private static OcspClientCertificateValidator Validator(ProviderHost host) => host.Services.GetRequiredService<OcspClientCertificateValidator>();

    private ProviderHost Host(Action<OcspStaplingOptions>? configure = null, IDistributedCache? store = null) =>
        new(_time, b => _ = store is null ? b.UseMemoryOnly() : b.UseDistributedCache(_ => store), configure);

#pragma warning disable CS0618 // MemoryDistributedCacheOptions.Clock still takes the obsolete ISystemClock.
    private sealed class Clock(TimeProvider time) : Microsoft.Extensions.Internal.ISystemClock
#pragma warning restore CS0618
    {
        public DateTimeOffset UtcNow => time.GetUtcNow();
    }
}
