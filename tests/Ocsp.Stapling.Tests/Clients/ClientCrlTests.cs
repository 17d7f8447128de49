using System.Diagnostics.Metrics;
using System.Numerics;
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
/// Client certificates of a CA that publishes a CRL and no OCSP responder (issue 42): decided from the CRL, fetched once
/// for the whole CA over HTTP, held while its server is down, shared through the store, refreshed before nextUpdate; a
/// bad CRL (garbage, truncated, another signer, expired, an older number, too large, a delta or unknown critical
/// extension, another distribution point) is refused with its reason while the CRL held keeps deciding; an expired one
/// decides nothing. And the policy's CrlUse: fallback from a failing responder, preferred, never.
/// </summary>
public sealed class ClientCrlTests(ResponderFixture fixture) : IClassFixture<ResponderFixture>, IAsyncLifetime
{
    private static readonly OcspClientCertificatePolicy FailClosed = new();
    private static readonly OcspClientCertificatePolicy FailOpen = new() { FailureMode = OcspClientFailureMode.FailOpen };
    private readonly FakeTimeProvider _time = fixture.Reset();
    private readonly X509Certificate2 _issuer = fixture.Pki.Intermediate;
    private TestCrlServer _server = null!;

    public async Task InitializeAsync() => _server = await TestCrlServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task CrlOnlyCa_GoodAccepted_ListedRefused_ManyChecksOneFetch_ThenFromMemory()
    {
        using ProviderHost host = Host();
        X509Certificate2 good = Client("crl-good");
        X509Certificate2 revoked = Client("crl-revoked");
        _server.Crl = Crl(7, revoked);
        OcspClientCertificateValidator validator = Validator(host);

        OcspClientCertificateDecision[] decisions = await Task.WhenAll(
            Enumerable.Range(0, 200).Select(i => validator.CheckAsync([i % 2 == 0 ? good : revoked, _issuer], FailClosed).AsTask()));

        Assert.Equal(1, _server.RequestCount);
        OcspClientCertificateDecision accepted = decisions[0];
        OcspClientCertificateDecision refused = decisions[1];
        Assert.True(accepted.IsAccepted, accepted.Message);
        Assert.Equal((OcspClientCertificateReason.Good, OcspRevocationSource.Crl), (accepted.Reason, accepted.Source));
        Assert.Contains("not listed on its CA's CRL (number 7", accepted.Message, StringComparison.Ordinal);
        Assert.False(refused.IsAccepted);
        Assert.Equal((OcspClientCertificateReason.Revoked, OcspRevocationSource.Crl), (refused.Reason, refused.Source));
        Assert.Contains("revoked since", refused.Message, StringComparison.Ordinal);
        Assert.Contains("KeyCompromise", refused.Message, StringComparison.Ordinal);
        Assert.All(decisions.Where((_, i) => i % 2 == 0), d => Assert.True(d.IsAccepted));
        Assert.All(decisions.Where((_, i) => i % 2 == 1), d => Assert.False(d.IsAccepted));

        // The synchronous (handshake) check from memory, no request; the status shows the CRL.
        for (int i = 0; i < 100; i++)
        {
            Assert.True(validator.Check([good, _issuer], FailClosed).IsAccepted);
            Assert.False(validator.Check([revoked, _issuer], FailOpen).IsAccepted);
        }

        Assert.Equal(1, _server.RequestCount);
        OcspCrlState state = Assert.Single(validator.GetCrlStates());
        Assert.Equal((new BigInteger(7), 1, _server.Url), (state.Number!.Value, state.Entries, state.Url));
        Assert.Equal(_issuer.Subject, state.Issuer);
        Assert.Equal(0, fixture.Responder.RequestCount); // no OCSP asked
    }

    [Fact]
    public async Task SyncCheck_NothingHeld_DecidedByTheFailureMode_FetchInTheBackground_TheNextByTheCrl()
    {
        using ProviderHost host = Host(o => o.SharedStore.Timeout = TimeSpan.FromSeconds(2));
        X509Certificate2 revoked = Client("crl-sync");
        _server.Crl = Crl(1, revoked);
        OcspClientCertificateValidator validator = Validator(host);

        // The handshake's check blocks on the store at most StoreWaitTime (zero here): the fetch goes on behind it.
        OcspClientCertificateDecision first = validator.Check([revoked, _issuer], new() { FailureMode = OcspClientFailureMode.FailOpen, StoreWaitTime = TimeSpan.Zero });
        await Holder(host).Ask().Answer;
        OcspClientCertificateDecision next = validator.Check([revoked, _issuer], FailOpen);

        Assert.True(first.IsAccepted, first.Message);
        Assert.Equal(OcspClientCertificateReason.Pending, first.Reason);
        Assert.False(next.IsAccepted);
        Assert.Equal(OcspClientCertificateReason.Revoked, next.Reason);
    }

    [Fact]
    public async Task ServerDown_TheHeldCrlDecides_RefreshedAtThreeQuarters_AfterNextUpdateNothingDecides()
    {
        using ProviderHost host = Host();
        X509Certificate2 good = Client("crl-down-good");
        X509Certificate2 revoked = Client("crl-down-revoked");
        DateTimeOffset now = _time.GetUtcNow();
        _server.Crl = TestCrls.Build(_issuer, 3, now.AddHours(-1), now.AddHours(23), revoked); // a 24-hour window
        OcspClientCertificateValidator validator = Validator(host);
        Assert.True((await validator.CheckAsync([good, _issuer], FailClosed)).IsAccepted);

        _server.Down = true;
        _time.Advance(TimeSpan.FromHours(12)); // before three quarters (17 h after thisUpdate): no request
        Assert.True(validator.Check([good, _issuer], FailClosed).IsAccepted);
        Assert.False(validator.Check([revoked, _issuer], FailOpen).IsAccepted);
        Assert.Equal(1, _server.RequestCount);

        _time.Advance(TimeSpan.FromHours(6)); // past three quarters: a refresh in the background, failing; the CRL held decides
        Assert.True(validator.Check([good, _issuer], FailClosed).IsAccepted);
        ClientCrls.CrlAnswer failed = await Holder(host).Ask().Answer;
        Assert.Contains("503", failed.Failure, StringComparison.Ordinal);
        Assert.False(validator.Check([revoked, _issuer], FailOpen).IsAccepted);
        Assert.Contains(host.Logs.Entries, e => e.EventId == Log.CrlRefusedId && e.Level == LogLevel.Warning && e.Message.Contains("keeps deciding", StringComparison.Ordinal));

        _time.Advance(TimeSpan.FromHours(6)); // past nextUpdate: no answer, by the failure mode
        OcspClientCertificateDecision closed = await validator.CheckAsync([good, _issuer], FailClosed);
        OcspClientCertificateDecision open = await validator.CheckAsync([revoked, _issuer], FailOpen);
        Assert.Equal((false, OcspClientCertificateReason.NoAnswer), (closed.IsAccepted, closed.Reason));
        Assert.Contains("expired", closed.Message, StringComparison.Ordinal);
        Assert.Equal((true, OcspClientCertificateReason.NoAnswer), (open.IsAccepted, open.Reason));

        // Back: the next attempt after the retry time takes the new CRL.
        _server.Down = false;
        _server.Crl = Crl(4, revoked);
        _time.Advance(TimeSpan.FromSeconds(6));
        Assert.True((await validator.CheckAsync([good, _issuer], FailClosed)).IsAccepted);
        Assert.False((await validator.CheckAsync([revoked, _issuer], FailOpen)).IsAccepted);
        Assert.Equal(new BigInteger(4), Assert.Single(validator.GetCrlStates()).Number);
    }

    public static TheoryData<string, string> BadCrls() => new()
    {
        { "garbage", "Not a DER CRL" },
        { "truncated", "Not a DER CRL" },
        { "wrong signer", "is issued by" },
        { "forged signature", "signature does not verify" },
        { "expired", "has passed" },
        { "older number", "lower than the held CRL's" },
        { "oversized", "over the 4096-byte limit" },
        { "delta", "delta CRL" },
        { "unknown critical extension", "critical extension 1.2.3.4" },
        { "other distribution point", "issuing distribution point is http://elsewhere.invalid/ca.crl" },
        { "no nextUpdate", "no nextUpdate" },
        { "future thisUpdate", "after now" },
    };

    [Theory]
    [MemberData(nameof(BadCrls))]
    public async Task BadCrl_RefusedWithItsReason_TheHeldCrlKeepsDeciding(string kind, string reason)
    {
        using ProviderHost host = Host(o => o.ClientCertificates.MaxCrlSize = 4096);
        X509Certificate2 good = Client("crl-bad-good");
        X509Certificate2 revoked = Client("crl-bad-revoked");
        DateTimeOffset now = _time.GetUtcNow();
        _server.Crl = TestCrls.Build(_issuer, 10, now.AddHours(-1), now.AddHours(3), revoked);
        OcspClientCertificateValidator validator = Validator(host);
        Assert.False((await validator.CheckAsync([revoked, _issuer], FailOpen)).IsAccepted);

        _time.Advance(TimeSpan.FromHours(2)); // past three quarters of the window
        now = _time.GetUtcNow();
        _server.Crl = Bad(kind, now, good);
        Assert.True(validator.Check([good, _issuer], FailClosed).IsAccepted); // held; the refresh starts behind it
        ClientCrls.CrlAnswer answer = await Holder(host).Ask().Answer;

        Assert.Contains(reason, answer.Failure, StringComparison.Ordinal);
        Assert.Equal(new BigInteger(10), Assert.Single(validator.GetCrlStates()).Number);
        Assert.True(validator.Check([good, _issuer], FailClosed).IsAccepted, "the bad CRL listed it; the held one does not");
        Assert.False(validator.Check([revoked, _issuer], FailOpen).IsAccepted);
        Assert.Contains(host.Logs.Entries, e => e.EventId == Log.CrlRefusedId && e.Message.Contains(reason, StringComparison.Ordinal));

        // Asked again after the retry time, refused again: no second Warning for the same kind of reason (its times differ).
        _time.Advance(TimeSpan.FromSeconds(6));
        Assert.True(validator.Check([good, _issuer], FailClosed).IsAccepted);
        await Holder(host).Pending;
        Assert.Single(host.Logs.Entries, e => e.EventId == Log.CrlRefusedId && e.Level == LogLevel.Warning);
    }

    [Fact]
    public async Task BadCrl_FirstTime_NoAnswer_WithTheReason_ByTheFailureMode()
    {
        using ProviderHost host = Host();
        X509Certificate2 client = Client("crl-bad-first");
        using X509Certificate2 other = fixture.Pki.IssueCa("Other CA", fixture.Pki.Root, null);
        _server.Crl = TestCrls.Build(other, 1, _time.GetUtcNow().AddHours(-1), _time.GetUtcNow().AddDays(1));

        OcspClientCertificateDecision closed = await Validator(host).CheckAsync([client, _issuer], FailClosed);
        OcspClientCertificateDecision open = await Validator(host).CheckAsync([client, _issuer], FailOpen);

        Assert.Equal((false, OcspClientCertificateReason.NoAnswer), (closed.IsAccepted, closed.Reason));
        Assert.Contains("is issued by 'CN=Other CA", closed.Message, StringComparison.Ordinal);
        Assert.True(open.IsAccepted);
        Assert.Equal(1, _server.RequestCount); // within the retry time: not asked again
        Assert.Empty(Validator(host).GetCrlStates());
    }

    [Fact]
    public async Task TwoServersOnOneStore_OneFetch_TheSecondTakesItFromTheStore()
    {
        var store = new MemoryDistributedCache(Options.Create(new MemoryDistributedCacheOptions { Clock = new Clock(_time) }));
        using ProviderHost first = Host(store: store);
        using ProviderHost second = Host(store: store);
        X509Certificate2 revoked = Client("crl-fleet");
        _server.Crl = Crl(2, revoked);

        Assert.False((await Validator(first).CheckAsync([revoked, _issuer], FailOpen)).IsAccepted);
        _server.Down = true;
        OcspClientCertificateDecision fromStore = Validator(second).Check([revoked, _issuer], FailOpen);

        Assert.False(fromStore.IsAccepted, fromStore.Message);
        Assert.Equal(OcspRevocationSource.Crl, fromStore.Source);
        Assert.Equal(1, _server.RequestCount);
        Assert.Contains(second.Logs.Entries, e => e.EventId == Log.CrlHeldId && e.Message.Contains("from the shared store", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TamperedStoreEntry_IsRefused_AndFetched()
    {
        var store = new MemoryDistributedCache(Options.Create(new MemoryDistributedCacheOptions { Clock = new Clock(_time) }));
        using ProviderHost first = Host(store: store);
        X509Certificate2 revoked = Client("crl-tampered");
        _server.Crl = Crl(2, revoked);
        Assert.False((await Validator(first).CheckAsync([revoked, _issuer], FailOpen)).IsAccepted);

        // Whoever can write the store writes a CRL of its own (listing nothing) under the key: it does not validate.
        string key = "ocsp-stapling:" + Holder(first).StoreKey;
        using X509Certificate2 other = fixture.Pki.IssueCa("Store Writer", fixture.Pki.Root, null);
        await store.SetAsync(key, TestCrls.Build(other, 99, _time.GetUtcNow().AddHours(-1), _time.GetUtcNow().AddDays(1)));
        using ProviderHost second = Host(store: store);

        Assert.False((await Validator(second).CheckAsync([revoked, _issuer], FailOpen)).IsAccepted);
        Assert.Equal(2, _server.RequestCount);
    }

    [Fact]
    public async Task Fallback_ResponderDown_TheCrlDecides_Preferred_TheResponderIsNeverAsked_Never_NoResponder()
    {
        using ProviderHost host = Host();
        X509Certificate2 both = fixture.Pki.IssueClient("crl-and-ocsp", fixture.Responder.Url, crlUrl: _server.Url);
        X509Certificate2 revoked = fixture.Pki.IssueClient("crl-and-ocsp-revoked", fixture.Responder.Url, crlUrl: _server.Url);
        X509Certificate2 crlOnly = Client("crl-only-never");
        _server.Crl = Crl(5, revoked);
        fixture.Responder.Fault = ResponderFault.Down;

        OcspClientCertificateDecision closed = await Validator(host).CheckAsync([both, _issuer], FailClosed);
        OcspClientCertificateDecision fallback = await Validator(host).CheckAsync([both, _issuer], new() { CrlUse = OcspCrlUse.Fallback });
        OcspClientCertificateDecision revokedByFallback = await Validator(host).CheckAsync([revoked, _issuer], new() { CrlUse = OcspCrlUse.Fallback, FailureMode = OcspClientFailureMode.FailOpen });
        Assert.Equal((false, OcspRevocationSource.None), (closed.IsAccepted, closed.Source)); // WhenNoResponder: the responder decides
        Assert.True(fallback.IsAccepted, fallback.Message);
        Assert.Equal(OcspRevocationSource.Crl, fallback.Source);
        Assert.Equal((false, OcspClientCertificateReason.Revoked), (revokedByFallback.IsAccepted, revokedByFallback.Reason));

        fixture.Responder.Fault = ResponderFault.None;
        int asked = fixture.Responder.RequestCount;
        using ProviderHost fresh = Host();
        OcspClientCertificateDecision preferred = await Validator(fresh).CheckAsync([both, _issuer], new() { CrlUse = OcspCrlUse.Preferred });
        OcspClientCertificateDecision never = await Validator(fresh).CheckAsync([crlOnly, _issuer], new() { CrlUse = OcspCrlUse.Never });
        Assert.Equal((true, OcspRevocationSource.Crl), (preferred.IsAccepted, preferred.Source));
        Assert.Equal(asked, fixture.Responder.RequestCount);
        Assert.Equal((false, OcspClientCertificateReason.NoResponder), (never.IsAccepted, never.Reason));
    }

    [Fact]
    public async Task Metrics_EachCrlHeld_ItsEntriesAndTimeLeft_TaggedWithItsIssuer()
    {
        using ProviderHost host = Host();
        X509Certificate2 revoked = Client("crl-metrics");
        _server.Crl = TestCrls.Build(_issuer, 3, _time.GetUtcNow().AddHours(-1), _time.GetUtcNow().AddHours(10), revoked);
        var measured = new Dictionary<string, (long Value, string Issuer)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter == host.Metrics.Meter && instrument.Name.StartsWith("ocsp.stapling.crl.", StringComparison.Ordinal))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            measured[instrument.Name] = (value, tags.ToArray().Single(t => t.Key == "issuer").Value as string ?? ""));
        listener.Start();
        _ = Validator(host); // the validator (and its gauges) made before the listener looks
        listener.RecordObservableInstruments();
        Assert.Empty(measured); // nothing held: no series

        Assert.False((await Validator(host).CheckAsync([revoked, _issuer], FailOpen)).IsAccepted);
        listener.RecordObservableInstruments();

        Assert.Equal((1L, _issuer.Subject), measured["ocsp.stapling.crl.entries"]);
        Assert.Equal((10L * 3600, _issuer.Subject), measured["ocsp.stapling.crl.remaining_validity"]);
    }

    [Fact]
    public async Task CrlForCasOnly_DoesNotDecideALeaf()
    {
        using ProviderHost host = Host();
        X509Certificate2 client = Client("crl-ca-scope");
        DateTimeOffset now = _time.GetUtcNow();
        _server.Crl = TestCrls.Custom(_issuer, now.AddHours(-1), now.AddDays(1), [TestCrls.Number(1), TestCrls.IssuingDistributionPoint(_server.Url, onlyCas: true)]);

        OcspClientCertificateDecision decision = await Validator(host).CheckAsync([client, _issuer], FailClosed);

        Assert.Equal((false, OcspClientCertificateReason.NoAnswer), (decision.IsAccepted, decision.Reason));
        Assert.Contains("only CA certificates", decision.Message, StringComparison.Ordinal);
    }

    private byte[] Bad(string kind, DateTimeOffset now, X509Certificate2 listed)
    {
        byte[] good = TestCrls.Build(_issuer, 11, now.AddMinutes(-5), now.AddDays(1), listed);
        switch (kind)
        {
            case "garbage":
                return "<html>not a CRL</html>"u8.ToArray();
            case "truncated":
                return good[..(good.Length / 2)];
            case "wrong signer":
                using (X509Certificate2 other = fixture.Pki.IssueCa("Wrong Signer CA", fixture.Pki.Root, null))
                {
                    return TestCrls.Build(other, 11, now.AddMinutes(-5), now.AddDays(1), listed);
                }

            case "forged signature":
                byte[] forged = (byte[])good.Clone();
                forged[^5] ^= 0x01;
                return forged;
            case "expired":
                return TestCrls.Build(_issuer, 11, now.AddDays(-2), now.AddMinutes(-1), listed);
            case "older number":
                return TestCrls.Build(_issuer, 9, now.AddMinutes(-5), now.AddDays(1), listed);
            case "oversized":
                return TestCrls.BuildLarge(_issuer, 200, now.AddMinutes(-5), now.AddDays(1), listed);
            case "delta":
                return TestCrls.Custom(_issuer, now.AddMinutes(-5), now.AddDays(1), [TestCrls.Number(11), ("2.5.29.27", true, [0x02, 0x01, 0x0A])], listed);
            case "unknown critical extension":
                return TestCrls.Custom(_issuer, now.AddMinutes(-5), now.AddDays(1), [TestCrls.Number(11), ("1.2.3.4", true, [0x05, 0x00])], listed);
            case "other distribution point":
                return TestCrls.Custom(_issuer, now.AddMinutes(-5), now.AddDays(1), [TestCrls.Number(11), TestCrls.IssuingDistributionPoint(new Uri("http://elsewhere.invalid/ca.crl"))], listed);
            case "no nextUpdate":
                return TestCrls.Custom(_issuer, now.AddMinutes(-5), null, [TestCrls.Number(11)], listed);
            case "future thisUpdate":
                return TestCrls.Build(_issuer, 11, now.AddHours(1), now.AddDays(1), listed);
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
    }

    private byte[] Crl(BigInteger number, params X509Certificate2[] revoked) =>
        TestCrls.Build(_issuer, number, _time.GetUtcNow().AddHours(-1), _time.GetUtcNow().AddDays(1), revoked);

    private X509Certificate2 Client(string name) => fixture.Pki.IssueClient(name, ocspUrl: null, crlUrl: _server.Url);

    private ClientCrls.CrlHolder Holder(ProviderHost host) =>
        host.Services.GetRequiredService<ClientCertificateValidator>().Crls.For(_issuer, [_server.Url])!;

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
