using System.Diagnostics.Metrics;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Ocsp.Stapling.Internal;
using Ocsp.Stapling.Testing;
using Xunit.Abstractions;

namespace Ocsp.Stapling.Tests.Provider;

public sealed class OcspResponseProviderTests(ResponderFixture fixture, ITestOutputHelper output) : IClassFixture<ResponderFixture>, IDisposable
{
    private readonly FakeTimeProvider _time = fixture.Reset();
    private readonly TestOcspResponder _responder = fixture.Responder;
    private readonly TestPki _pki = fixture.Pki;
    private readonly string _cacheDirectory = Directory.CreateTempSubdirectory("ocsp-provider-").FullName;

    public void Dispose() => Directory.Delete(_cacheDirectory, recursive: true);

    /// <summary>A provider that fetched and persisted the leaf's staple, then a fresh one on the same cache with the responder down.</summary>
    private async Task<ProviderHost> RestartWithResponderDownAsync()
    {
        using (ProviderHost first = FileHost())
        {
            first.Provider.Register(_pki.Leaf, _pki.Intermediate);
            await first.Provider.GetStapleAsync(_pki.Leaf, _pki.Intermediate);
        }

        _responder.Fault = ResponderFault.Down;
        _responder.ResetCount();
        return FileHost();
    }

    private ProviderHost FileHost(Action<OcspStaplingOptions>? configure = null) =>
        new(_time, b => b.UseFileSystemCache(_cacheDirectory), configure);

    [Fact]
    public async Task GetStapleAsync_Uncached_FetchesValidatesAndServesFromL1()
    {
        using var host = FileHost();

        host.Provider.Register(_pki.Leaf, _pki.Intermediate);
        OcspStaple? sut = await host.Provider.GetStapleAsync(_pki.Leaf, _pki.Intermediate);

        Assert.NotNull(sut);
        Assert.Equal(OcspCertificateStatus.Good, sut.Status);
        Assert.Equal(_time.GetUtcNow() + TimeSpan.FromDays(4), sut.NextUpdate);
        Assert.True(host.Provider.TryGetCachedStaple(_pki.Leaf, out OcspStaple? cached));
        Assert.Same(sut, cached);
        Assert.Equal(1, _responder.RequestCount);
        Assert.Contains(host.Logs.Entries, e => e.EventId == Log.StapleUpdatedId);
    }

    [Fact]
    public async Task Refresh_OneLogLinePerOutcome_CertificateResultResponderDuration()
    {
        using (ProviderHost host = FileHost())
        {
            host.Provider.Register(_pki.Leaf, _pki.Intermediate);
            await host.Provider.GetStapleAsync(_pki.Leaf, _pki.Intermediate);
            _responder.Fault = ResponderFault.Down;
            await host.Provider.RefreshAsync(_pki.Leaf);

            string responder = _pki.Leaf.GetOcspResponderUris()[0].AbsoluteUri;
            string name = CertificateNames.DisplayName(_pki.Leaf);
            LogEntry updated = Assert.Single(host.Logs.Entries, e => e.EventId == Log.StapleUpdatedId);
            Assert.Equal(LogLevel.Information, updated.Level);
            Assert.Matches($"^OCSP update for {Regex.Escape(name)}: Good from Responder {Regex.Escape(responder)} in \\d+ ms, thisUpdate ", updated.Message);
            LogEntry failed = Assert.Single(host.Logs.Entries, e => e.EventId == Log.FetchFailedId);
            Assert.Equal(LogLevel.Warning, failed.Level);
            Assert.Matches($"^OCSP update for {Regex.Escape(name)}: failed \\(ConnectionFailed, attempt 1\\) from {Regex.Escape(responder)} in \\d+ ms: ", failed.Message);
        }

        using ProviderHost restarted = FileHost();
        restarted.Provider.Register(_pki.Leaf, _pki.Intermediate);
        await restarted.Provider.GetStapleAsync(_pki.Leaf, _pki.Intermediate);
        LogEntry fromStore = Assert.Single(restarted.Logs.Entries, e => e.EventId == Log.StapleUpdatedId);
        Assert.Contains(": Good from SharedStore (written by this or another node) in ", fromStore.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TryGetCachedStaple_OtherInstanceOfSameCertificate_Hits()
    {
        using var host = FileHost();
        host.Provider.Register(_pki.Leaf, _pki.Intermediate);
        await host.Provider.GetStapleAsync(_pki.Leaf, _pki.Intermediate);
        using var copy = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(_pki.Leaf.RawData);

        Assert.True(host.Provider.TryGetCachedStaple(copy, out _));
        Assert.False(host.Provider.TryGetCachedStaple(_pki.LeafWithoutAia, out _));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.8)]
    public async Task Restart_ResponderDown_ServesPersistedStapleWithZeroUpstreamRequests(double fractionOfValidityUsed)
    {
        byte[] persisted;
        using (var first = FileHost())
        {
            first.Provider.Register(_pki.Leaf, _pki.Intermediate);
            persisted = (await first.Provider.GetStapleAsync(_pki.Leaf, _pki.Intermediate))!.Encoded.ToArray();
        }

        _time.Advance(TimeSpan.FromDays(4) * fractionOfValidityUsed);
        _responder.Fault = ResponderFault.Down;
        _responder.ResetCount();
        using var second = FileHost();

        second.Provider.Register(_pki.Leaf, _pki.Intermediate);
        OcspStaple? sut = await second.Provider.GetStapleAsync(_pki.Leaf, _pki.Intermediate);

        Assert.NotNull(sut);
        Assert.Equal(persisted, sut.Encoded.ToArray());
        Assert.Equal(0, _responder.RequestCount);
        Assert.True(second.Provider.TryGetCachedStaple(_pki.Leaf, out _));
    }

    [Fact]
    public async Task WarmUp_AfterRestart_FirstSynchronousLookupHits()
    {
        using ProviderHost second = await RestartWithResponderDownAsync();
        second.Provider.Register(_pki.Leaf, _pki.Intermediate);

        await second.Provider.WarmUpAsync(_pki.Leaf);

        Assert.True(second.Provider.TryGetCachedStaple(_pki.Leaf, out _));
        Assert.Equal(0, _responder.RequestCount);
    }

    [Fact]
    public async Task ResponderDownMidLife_ServesOldStapleUntilNextUpdateWithDocumentedBackoff_ThenRecovers()
    {
        using var host = FileHost();
        host.Provider.Register(_pki.Leaf, _pki.Intermediate);
        OcspStaple original = (await host.Provider.GetStapleAsync(_pki.Leaf, _pki.Intermediate))!;
        Assert.Equal(original.ThisUpdate + TimeSpan.FromDays(2), host.State.NextRefresh);
        _responder.Fault = ResponderFault.Down;

        var intervals = new List<TimeSpan>();
        DateTimeOffset previous = host.State.NextRefresh!.Value;
        while (previous < original.NextUpdate)
        {
            _time.SetUtcNow(previous);
            await host.RunDueAsync(CancellationToken.None);
            Assert.True(host.Provider.TryGetCachedStaple(_pki.Leaf, out OcspStaple? held));
            Assert.Same(original, held);
            DateTimeOffset next = host.State.NextRefresh!.Value;
            intervals.Add(next - previous);
            previous = next;
        }

        // 1 min doubling to the 1 h cap (Jitter = 0 here).
        TimeSpan[] expected = [.. new[] { 1, 2, 4, 8, 16, 32 }.Select(m => TimeSpan.FromMinutes(m))];
        Assert.Equal(expected, intervals.Take(6));
        Assert.All(intervals.Skip(6), interval => Assert.Equal(TimeSpan.FromHours(1), interval));

        _time.SetUtcNow(original.NextUpdate);
        await host.RunDueAsync(CancellationToken.None);
        Assert.False(host.Provider.TryGetCachedStaple(_pki.Leaf, out _));
        Assert.Contains(host.Logs.Entries, e => e.EventId == Log.StapleExpiredId && e.Level == LogLevel.Error);

        _responder.Fault = ResponderFault.None;
        _time.SetUtcNow(host.State.NextRefresh!.Value);
        await host.RunDueAsync(CancellationToken.None);
        Assert.True(host.Provider.TryGetCachedStaple(_pki.Leaf, out OcspStaple? renewed));
        Assert.True(renewed.ThisUpdate > original.ThisUpdate);
        Assert.Equal(0, host.State.ConsecutiveFailures);
    }

    [Theory]
    [InlineData(ResponderFault.Down, OcspFailureReason.ConnectionFailed, OcspValidationFailure.None)]
    [InlineData(ResponderFault.Http500, OcspFailureReason.HttpStatus, OcspValidationFailure.None)]
    [InlineData(ResponderFault.HtmlBody, OcspFailureReason.InvalidResponse, OcspValidationFailure.MalformedResponse)]
    [InlineData(ResponderFault.Garbage, OcspFailureReason.InvalidResponse, OcspValidationFailure.MalformedResponse)]
    [InlineData(ResponderFault.TryLater, OcspFailureReason.InvalidResponse, OcspValidationFailure.UnsuccessfulStatus)]
    [InlineData(ResponderFault.Unauthorized, OcspFailureReason.InvalidResponse, OcspValidationFailure.UnsuccessfulStatus)]
    [InlineData(ResponderFault.WrongSerial, OcspFailureReason.InvalidResponse, OcspValidationFailure.CertificateIdMismatch)]
    [InlineData(ResponderFault.WrongSigner, OcspFailureReason.InvalidResponse, OcspValidationFailure.UnauthorizedSigner)]
    [InlineData(ResponderFault.Expired, OcspFailureReason.InvalidResponse, OcspValidationFailure.Expired)]
    public async Task Refresh_ResponderFault_KeepsValidStapleAndReportsReason(ResponderFault fault, OcspFailureReason reason, OcspValidationFailure validationFailure)
    {
        using var host = FileHost();
        var failures = new List<OcspStapleFailedEventArgs>();
        host.Provider.StapleFailed += (_, e) => failures.Add(e);
        var tags = new List<string?>();
        using var listener = ListenForFetchReasons(host, tags);
        host.Provider.Register(_pki.Leaf, _pki.Intermediate);
        OcspStaple original = (await host.Provider.GetStapleAsync(_pki.Leaf, _pki.Intermediate))!;
        _responder.Fault = fault;

        _time.SetUtcNow(host.State.NextRefresh!.Value);
        await host.RunDueAsync(CancellationToken.None);

        // The same names everywhere: the event, the state, the log line and the metric's tag.
        Assert.True(host.Provider.TryGetCachedStaple(_pki.Leaf, out OcspStaple? held));
        Assert.Same(original, held);
        OcspStapleFailedEventArgs failure = Assert.Single(failures);
        Assert.Equal((reason, validationFailure), (failure.Failure.Reason, failure.Failure.ValidationFailure));
        Assert.Same(original, failure.ServedStaple);
        string code = validationFailure == OcspValidationFailure.None ? reason.ToString() : $"{reason}/{validationFailure}";
        Assert.Equal(code, failure.Failure.Code);
        Assert.Contains(host.Logs.Entries, e => e.EventId == Log.FetchFailedId && e.Message.Contains($"failed ({code},", StringComparison.Ordinal));
        Assert.Contains(reason.ToString(), tags);
        Assert.Equal((reason, validationFailure), (host.State.LastFailure?.Reason, host.State.LastFailure?.ValidationFailure));
    }

    [Fact]
    public async Task GetStapleAsync_Unregistered_FetchesOnceRegistersNothingKeepsNothingInMemory()
    {
        using ProviderHost host = FileHost();

        OcspStaple? first = await host.Provider.GetStapleAsync(_pki.Leaf, _pki.Intermediate);

        Assert.NotNull(first);
        Assert.Empty(host.Provider.GetStates());
        Assert.Null(host.Provider.GetState(_pki.Leaf));
        Assert.False(host.Provider.TryGetCachedStaple(_pki.Leaf, out _));
        Assert.Equal(1, _responder.RequestCount);

        // Written through to the shared store: the next call (or another node) needs no upstream request.
        OcspStaple? second = await host.Provider.GetStapleAsync(_pki.Leaf, _pki.Intermediate);
        Assert.Equal(first.Encoded.ToArray(), second!.Encoded.ToArray());
        Assert.Equal(1, _responder.RequestCount);
    }

    [Fact]
    public async Task GetStapleAsync_UnregisteredConcurrentCallers_OneUpstreamRequest()
    {
        using var host = new ProviderHost(_time, b => b.UseMemoryOnly());
        _responder.Fault = ResponderFault.Slow;

        Task<OcspStaple?>[] callers = [.. Enumerable.Range(0, 50).Select(_ => host.Provider.GetStapleAsync(_pki.Leaf, _pki.Intermediate).AsTask())];
        await _responder.WhenRequestCountAsync(1).WaitAsync(TimeSpan.FromSeconds(30));
        _responder.ReleaseSlowRequests();
        OcspStaple?[] results = await Task.WhenAll(callers).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.All(results, r => Assert.Same(results[0], r));
        Assert.NotNull(results[0]);
        Assert.Equal(1, _responder.RequestCount);
        Assert.Empty(host.Provider.GetStates());
    }

    [Fact]
    public async Task GetStapleAsync_UnregisteredWithWrongIssuer_Throws()
    {
        using var host = new ProviderHost(_time, b => b.UseMemoryOnly());

        await Assert.ThrowsAsync<ArgumentException>(async () => await host.Provider.GetStapleAsync(_pki.Leaf, _pki.Root));
        Assert.Equal(0, _responder.RequestCount);
    }

    [Fact]
    public async Task RefreshAsync_Unregistered_ThrowsNamingTheCertificate()
    {
        using var host = new ProviderHost(_time, b => b.UseMemoryOnly());

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.Provider.RefreshAsync(_pki.Leaf));

        Assert.Contains(_pki.Leaf.SerialNumber, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RefreshAsync_Success_ReturnsTheResponseFromTheResponder()
    {
        using var host = new ProviderHost(_time, b => b.UseMemoryOnly());
        host.Provider.Register(_pki.Leaf, _pki.Intermediate);

        OcspRefreshResult sut = await host.Provider.RefreshAsync(_pki.Leaf);

        Assert.True(sut.Succeeded);
        Assert.True(sut.IsServed);
        Assert.Equal(OcspStapleSource.Responder, sut.Source);
        Assert.Equal(OcspCertificateStatus.Good, sut.Response!.Status);
        Assert.True(host.Provider.TryGetCachedStaple(_pki.Leaf, out OcspStaple? held));
        Assert.Same(held, sut.Response);
    }

    [Fact]
    public async Task RefreshAsync_ResponderFailing_ReturnsTheReason_ThenAsksNobodyInsideTheBackoff()
    {
        using var host = new ProviderHost(_time, b => b.UseMemoryOnly());
        host.Provider.Register(_pki.Leaf, _pki.Intermediate);
        _responder.Fault = ResponderFault.WrongSigner;

        OcspRefreshResult failed = await host.Provider.RefreshAsync(_pki.Leaf);
        OcspRefreshResult again = await host.Provider.RefreshAsync(_pki.Leaf);

        Assert.False(failed.Succeeded);
        Assert.Null(failed.Response);
        Assert.Equal((OcspFailureReason.InvalidResponse, OcspValidationFailure.UnauthorizedSigner), (failed.Failure?.Reason, failed.Failure?.ValidationFailure));
        Assert.Equal(1, _responder.RequestCount);
        Assert.Equal(OcspStapleSource.Memory, again.Source);
        Assert.Equal((OcspFailureReason.InvalidResponse, OcspValidationFailure.UnauthorizedSigner), (again.Failure?.Reason, again.Failure?.ValidationFailure));

        // Past the back-off it asks again, and the recovered responder's answer comes back.
        _responder.Fault = ResponderFault.None;
        _time.SetUtcNow(host.State.NextRefresh!.Value);
        OcspRefreshResult recovered = await host.Provider.RefreshAsync(_pki.Leaf);
        Assert.True(recovered.Succeeded);
        Assert.Equal(2, _responder.RequestCount);
    }

    [Fact]
    public async Task RefreshAsync_NoResponder_SaysSo()
    {
        using var host = new ProviderHost(_time, b => b.UseMemoryOnly());
        host.Provider.Register(_pki.LeafWithoutAia, _pki.Intermediate);

        OcspRefreshResult sut = await host.Provider.RefreshAsync(_pki.LeafWithoutAia);

        Assert.Equal(OcspFailureReason.NoResponder, sut.Failure?.Reason);
        Assert.Null(sut.Response);
        Assert.Equal(0, _responder.RequestCount);
    }

    [Fact]
    public void RegisterAndUnregister_RaiseTheirEvents()
    {
        using var host = new ProviderHost(_time, b => b.UseMemoryOnly());
        var registered = new List<OcspCertificateEventArgs>();
        var unregistered = new List<OcspCertificateEventArgs>();
        host.Provider.CertificateRegistered += (_, e) => registered.Add(e);
        host.Provider.CertificateUnregistered += (_, e) => unregistered.Add(e);

        Assert.True(host.Provider.Register(_pki.Leaf, _pki.Intermediate));
        Assert.False(host.Provider.Register(_pki.Leaf, _pki.Intermediate));
        Assert.True(host.Provider.Unregister(_pki.Leaf));
        Assert.False(host.Provider.Unregister(_pki.Leaf));

        Assert.Same(_pki.Leaf, Assert.Single(registered).Certificate);
        Assert.Same(_pki.Intermediate, registered[0].Issuer);
        Assert.Same(_pki.Leaf, Assert.Single(unregistered).Certificate);
    }

    [Fact]
    public void EventSubscriberThrowing_DoesNotStopTheOthers_AndIsLogged()
    {
        using var host = new ProviderHost(_time, b => b.UseMemoryOnly());
        int second = 0;
        host.Provider.CertificateRegistered += (_, _) => throw new InvalidOperationException("subscriber bug");
        host.Provider.CertificateRegistered += (_, _) => second++;

        host.Provider.Register(_pki.Leaf, _pki.Intermediate);

        Assert.Equal(1, second);
        Assert.Contains(host.Logs.Entries, e => e.EventId == Log.SubscriberErrorId && e.Message.Contains(nameof(OcspCertificateEventArgs), StringComparison.Ordinal));
    }

    [Fact]
    public async Task GetStapleAsync_1000ConcurrentCallers_OneUpstreamRequest()
    {
        using var host = new ProviderHost(_time, b => b.UseMemoryOnly());
        _responder.Fault = ResponderFault.Slow;

        host.Provider.Register(_pki.Leaf, _pki.Intermediate);
        Task<OcspStaple?>[] callers = [.. Enumerable.Range(0, 1000).Select(_ => Task.Run(() => host.Provider.GetStapleAsync(_pki.Leaf, _pki.Intermediate).AsTask()))];
        await _responder.WhenRequestCountAsync(1).WaitAsync(TimeSpan.FromSeconds(30));
        _responder.ReleaseSlowRequests();
        OcspStaple?[] results = await Task.WhenAll(callers).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.All(results, r => Assert.Same(results[0], r));
        Assert.NotNull(results[0]);
        Assert.Equal(1, _responder.RequestCount);
    }

    [Fact]
    public async Task Fleet_FiveProvidersSharingACache_FetchAboutOncePerRefreshPeriod()
    {
        var shared = new FaultyDistributedCache(_time);
        var hosts = Enumerable.Range(0, 5).Select(_ => new ProviderHost(_time, b => b.UseDistributedCache(_ => shared), o => o.Refresh.Jitter = 0.1)).ToArray();
        try
        {
            foreach (ProviderHost host in hosts)
            {
                host.Provider.Register(_pki.Leaf, _pki.Intermediate);
            }

            DateTimeOffset end = _time.GetUtcNow().AddDays(14);
            while (true)
            {
                DateTimeOffset next = hosts.Min(h => h.State.NextRefresh!.Value);
                if (next > end)
                {
                    break;
                }

                _time.SetUtcNow(next);
                foreach (ProviderHost host in hosts)
                {
                    await host.RunDueAsync(CancellationToken.None);
                    Assert.True(host.Provider.TryGetCachedStaple(_pki.Leaf, out _));
                }
            }

            // Responses valid 4 days, refreshed at half-life: 7 refresh periods in 14 days (plus the first fetch).
            double periods = 14.0 / 2;
            output.WriteLine($"Upstream requests over 14 simulated days, 5 nodes: {_responder.RequestCount} ({_responder.RequestCount / periods:F2} per period)");
            Assert.InRange(_responder.RequestCount, 1, 1.5 * periods);
        }
        finally
        {
            foreach (ProviderHost host in hosts)
            {
                host.Dispose();
            }
        }
    }

    [Fact]
    public async Task SharedCacheThrowing_DoesNotBlockFetchOrLookup_AndIsCountedAndLogged()
    {
        var cache = new FaultyDistributedCache(_time) { Fault = CacheFault.Throw };
        using var host = new ProviderHost(_time, b => b.UseDistributedCache(_ => cache));
        var errors = new List<string?>();
        using var listener = ListenForCacheErrors(host, errors);

        host.Provider.Register(_pki.Leaf, _pki.Intermediate);
        OcspStaple? sut = await host.Provider.GetStapleAsync(_pki.Leaf, _pki.Intermediate);

        Assert.NotNull(sut);
        Assert.True(host.Provider.TryGetCachedStaple(_pki.Leaf, out _));
        Assert.Equal(["read", "write"], errors);
        Assert.Contains(host.Logs.Entries, e => e.EventId == Log.CacheReadFailedId);
        Assert.Contains(host.Logs.Entries, e => e.EventId == Log.CacheWriteFailedId);

        // Recovered: the next refresh writes again.
        cache.Fault = CacheFault.None;
        _time.SetUtcNow(host.State.NextRefresh!.Value);
        await host.RunDueAsync(CancellationToken.None);
        Assert.Equal(1, cache.Count);
    }

    [Fact]
    public async Task SharedCacheHanging_LookupsAnswerAtOnce_RefreshContinuesAfterTimeout()
    {
        var cache = new FaultyDistributedCache(_time);
        using var host = new ProviderHost(_time, b => b.UseDistributedCache(_ => cache));
        host.Provider.Register(_pki.Leaf, _pki.Intermediate);
        await host.Provider.GetStapleAsync(_pki.Leaf, _pki.Intermediate);
        OcspStaple first = host.Provider.GetStates()[0].Staple!;
        cache.Fault = CacheFault.Hang;
        _time.SetUtcNow(host.State.NextRefresh!.Value);

        Task started = cache.NextCallStarted;
        Task refresh = host.RunDueAsync(CancellationToken.None);
        await started.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(refresh.IsCompleted);
        Assert.True(host.Provider.TryGetCachedStaple(_pki.Leaf, out OcspStaple? during));
        Assert.Same(first, during);

        // The read times out (2 s), the responder answers, the write hangs and times out too.
        Task writeStarted = cache.NextCallStarted;
        _time.Advance(TimeSpan.FromSeconds(2));
        await writeStarted.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(host.Provider.TryGetCachedStaple(_pki.Leaf, out OcspStaple? updated));
        Assert.True(updated.ThisUpdate > first.ThisUpdate);
        _time.Advance(TimeSpan.FromSeconds(2));
        await refresh.WaitAsync(TimeSpan.FromSeconds(30));
        cache.ReleaseHung();
    }

    [Fact]
    public async Task HotLookup_AllocatesNothing()
    {
        using var host = new ProviderHost(_time, b => b.UseMemoryOnly());
        host.Provider.Register(_pki.Leaf, _pki.Intermediate);
        await host.Provider.GetStapleAsync(_pki.Leaf, _pki.Intermediate);
        using var copy = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(_pki.Leaf.RawData);
        Assert.True(host.Provider.TryGetCachedStaple(_pki.Leaf, out _));
        Assert.True(host.Provider.TryGetCachedStaple(copy, out _));
        Assert.False(host.Provider.TryGetCachedStaple(_pki.LeafWithoutAia, out _));

        // The first pass lets tiered compilation settle (its one-off allocations are not the lookup's); the second is measured.
        LookupLoop(host, copy);
        long before = GC.GetAllocatedBytesForCurrentThread();
        LookupLoop(host, copy);

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private void LookupLoop(ProviderHost host, X509Certificate2 copy)
    {
        for (int i = 0; i < 10_000; i++)
        {
            host.Provider.TryGetCachedStaple(_pki.Leaf, out _);
            host.Provider.TryGetCachedStaple(copy, out _);
            host.Provider.TryGetCachedStaple(_pki.LeafWithoutAia, out _);
        }
    }

    [Fact]
    public async Task Revoked_RaisesEventCriticalLogAndMetric_NotStapledByDefault()
    {
        using var host = new ProviderHost(_time, b => b.UseMemoryOnly());
        var revoked = new List<OcspCertificateRevokedEventArgs>();
        host.Provider.CertificateRevoked += (_, e) => revoked.Add(e);
        long revocations = 0;
        using var listener = Listen(host, "ocsp.stapling.revoked", (_, value) => Interlocked.Add(ref revocations, value));
        _responder.Revoke(_pki.Leaf, _time.GetUtcNow().AddHours(-1), OcspRevocationReason.KeyCompromise);

        host.Provider.Register(_pki.Leaf, _pki.Intermediate);
        OcspStaple? sut = await host.Provider.GetStapleAsync(_pki.Leaf, _pki.Intermediate);

        Assert.Null(sut);
        Assert.False(host.Provider.TryGetCachedStaple(_pki.Leaf, out _));
        Assert.Equal(OcspRevocationReason.KeyCompromise, Assert.Single(revoked).Staple.RevocationReason);
        Assert.Contains(host.Logs.Entries, e => e.EventId == Log.CertificateRevokedId && e.Level == LogLevel.Critical);
        Assert.Equal(1, revocations);
        Assert.Equal(OcspCertificateStatus.Revoked, host.State.Staple!.Status);
    }

    [Fact]
    public async Task Revoked_WithStapleRevokedOption_IsStapled()
    {
        using var host = new ProviderHost(_time, b => b.UseMemoryOnly(), o => o.StapleRevoked = true);
        _responder.Revoke(_pki.Leaf, _time.GetUtcNow().AddHours(-1));

        host.Provider.Register(_pki.Leaf, _pki.Intermediate);
        OcspStaple? sut = await host.Provider.GetStapleAsync(_pki.Leaf, _pki.Intermediate);

        Assert.Equal(OcspCertificateStatus.Revoked, sut!.Status);
        Assert.True(host.Provider.TryGetCachedStaple(_pki.Leaf, out _));
    }

    [Fact]
    public async Task TryGetCachedStaple_AtNextUpdate_StopsServingWithoutTheScheduler()
    {
        using var host = new ProviderHost(_time, b => b.UseMemoryOnly());
        host.Provider.Register(_pki.Leaf, _pki.Intermediate);
        OcspStaple staple = (await host.Provider.GetStapleAsync(_pki.Leaf, _pki.Intermediate))!;

        _time.SetUtcNow(staple.NextUpdate - TimeSpan.FromSeconds(1));
        Assert.True(host.Provider.TryGetCachedStaple(_pki.Leaf, out _));

        // No RunDueAsync: the expiry timer alone takes it out of the lookup.
        _time.SetUtcNow(staple.NextUpdate);
        Assert.False(host.Provider.TryGetCachedStaple(_pki.Leaf, out _));
        Assert.Same(staple, host.State.Staple);
    }

    [Fact]
    public async Task NoResponderUrl_ReturnsNullWithReasonAndNoRequest()
    {
        using var host = new ProviderHost(_time, b => b.UseMemoryOnly());
        var failures = new List<OcspStapleFailedEventArgs>();
        host.Provider.StapleFailed += (_, e) => failures.Add(e);

        host.Provider.Register(_pki.LeafWithoutAia, _pki.Intermediate);
        Assert.Null(await host.Provider.GetStapleAsync(_pki.LeafWithoutAia, _pki.Intermediate));
        Assert.Equal(OcspFailureReason.NoResponder, Assert.Single(failures).Failure.Reason);
        Assert.Equal(0, _responder.RequestCount);
        Assert.Contains(host.Logs.Entries, e => e.EventId == Log.NoResponderId);
    }

    [Fact]
    public async Task NoResponderUrl_Scheduled_IsNotAnOutage_OneWarningAtRegistration_NoRetries()
    {
        using var host = new ProviderHost(_time, b => b.UseMemoryOnly());
        host.Provider.Register(_pki.LeafWithoutAia, _pki.Intermediate);

        await host.RunDueAsync(CancellationToken.None);
        _time.Advance(TimeSpan.FromDays(3));
        await host.RunDueAsync(CancellationToken.None);

        Assert.Equal(DateTimeOffset.MaxValue, host.State.NextRefresh);
        Assert.False(host.State.HasResponder);
        Assert.Equal(0, host.State.ConsecutiveFailures);
        LogEntry warning = Assert.Single(host.Logs.Entries, e => e.Level >= LogLevel.Warning);
        Assert.Equal(Log.NoResponderId, warning.EventId);
        Assert.Contains("no OCSP URL in AIA and no override", warning.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(host.Logs.Entries, e => e.EventId == Log.CertificateRegisteredId); // no "Keeping OCSP staple … responders: )"
    }

    [Fact]
    public async Task ResponderDisabledByOverride_IsTheOperatorsChoice_InformationOnly()
    {
        using var host = new ProviderHost(_time, b => b.UseMemoryOnly(), o => o.Fetch.ResponderOverrides[_pki.Leaf.Thumbprint] = OcspFetchOptions.DisabledResponder);
        host.Provider.Register(_pki.Leaf, _pki.Intermediate);

        await host.RunDueAsync(CancellationToken.None);

        Assert.DoesNotContain(host.Logs.Entries, e => e.Level >= LogLevel.Warning);
        Assert.Single(host.Logs.Entries, e => e.EventId == Log.NoResponderId && e.Level == LogLevel.Information && e.Message.Contains("disabled by override", StringComparison.Ordinal));
        Assert.Equal(0, _responder.RequestCount);
    }

    [Fact]
    public async Task WarmUpAsync_OneCertificate_LoadsFromSharedCacheWithoutAskingTheResponder()
    {
        using ProviderHost second = await RestartWithResponderDownAsync();
        OcspResponseProvider sut = second.Provider;
        sut.Register(_pki.Leaf, _pki.Intermediate);

        OcspStaple? staple = await sut.WarmUpAsync(_pki.Leaf);

        Assert.NotNull(staple);
        Assert.True(second.Provider.TryGetCachedStaple(_pki.Leaf, out OcspStaple? held));
        Assert.Same(staple, held);
        Assert.Equal(0, _responder.RequestCount);
        await Assert.ThrowsAsync<InvalidOperationException>(() => sut.WarmUpAsync(_pki.MustStapleLeaf));
    }

    [Fact]
    public async Task ResponderOverride_UsedForCertificateWithoutAia_DisabledStopsFetching()
    {
        using var host = new ProviderHost(_time, b => b.UseMemoryOnly(), o =>
        {
            o.Fetch.ResponderOverrides[_pki.LeafWithoutAia.Thumbprint] = _responder.Url.AbsoluteUri;
            o.Fetch.ResponderOverrides[_pki.Leaf.Thumbprint] = OcspFetchOptions.DisabledResponder;
        });

        host.Provider.Register(_pki.LeafWithoutAia, _pki.Intermediate);
        Assert.NotNull(await host.Provider.GetStapleAsync(_pki.LeafWithoutAia, _pki.Intermediate));
        Assert.Null(await host.Provider.GetStapleAsync(_pki.Leaf, _pki.Intermediate));
        Assert.Equal(1, _responder.RequestCount);
    }

    [Fact]
    public async Task AiaWithDeadFirstUrl_FallsBackInOrderAndRemembersTheWorkingOne()
    {
        // Port 1 on loopback refuses at once: the first AIA URL is dead, the second is our responder.
        using X509Certificate2 twoUrls = IssueWithTwoUrls();
        using var host = new ProviderHost(_time, b => b.UseMemoryOnly());

        host.Provider.Register(twoUrls, _pki.Intermediate);
        Assert.NotNull(await host.Provider.GetStapleAsync(twoUrls, _pki.Intermediate));
        Assert.Equal(1, _responder.RequestCount);
        Registration registration = host.Provider.FindRegistration(twoUrls)!;
        Assert.Equal(1, registration.PreferredResponder);

        _time.SetUtcNow(host.State.NextRefresh!.Value);
        await host.RunDueAsync(CancellationToken.None);
        Assert.Equal(2, _responder.RequestCount);
        Assert.Null(host.State.LastFailure);
    }

    private X509Certificate2 IssueWithTwoUrls()
    {
        using var key = System.Security.Cryptography.ECDsa.Create();
        var request = new CertificateRequest("CN=two-urls.test", key, System.Security.Cryptography.HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509AuthorityInformationAccessExtension(["http://127.0.0.1:1/ocsp", _responder.Url.AbsoluteUri], null));
        using var rsa = _pki.Intermediate.GetRSAPrivateKey()!;
        return request.Create(_pki.Intermediate.SubjectName, X509SignatureGenerator.CreateForRSA(rsa, System.Security.Cryptography.RSASignaturePadding.Pkcs1),
            _time.GetUtcNow().AddDays(-1), _time.GetUtcNow().AddDays(60), TestPki.NewSerial());
    }

    [Fact]
    public async Task Unregister_DropsStaple()
    {
        using var host = new ProviderHost(_time, b => b.UseMemoryOnly());
        host.Provider.Register(_pki.Leaf, _pki.Intermediate);
        await host.Provider.GetStapleAsync(_pki.Leaf, _pki.Intermediate);

        Assert.True(host.Provider.Unregister(_pki.Leaf));

        Assert.False(host.Provider.TryGetCachedStaple(_pki.Leaf, out _));
        Assert.Empty(host.Provider.GetStates());
    }

    [Fact]
    public async Task InvalidSharedCacheEntry_IsIgnoredAndFetchedFresh()
    {
        var cache = new FaultyDistributedCache(_time);
        string key = "ocsp-stapling:" + OcspCertificateId.Create(_pki.Leaf, _pki.Intermediate).CacheKey;
        OcspResponseBuilder forged = OcspResponseBuilder.For(_pki.Leaf, _pki.Intermediate, _time.GetUtcNow());
        forged.CorruptSignature = true;
        byte[] entry = StapleCacheEntry.Serialize(new OcspStaple(forged.Build(), forged.CertificateId, OcspCertificateStatus.Good, _time.GetUtcNow(), _time.GetUtcNow().AddDays(4), _time.GetUtcNow(), _time.GetUtcNow()));
        await cache.SetAsync(key, entry, new());
        using var host = new ProviderHost(_time, b => b.UseDistributedCache(_ => cache));

        host.Provider.Register(_pki.Leaf, _pki.Intermediate);
        OcspStaple? sut = await host.Provider.GetStapleAsync(_pki.Leaf, _pki.Intermediate);

        Assert.NotEqual(entry[13..], sut!.Encoded.ToArray());
        Assert.Equal(1, _responder.RequestCount);
    }

    private static MeterListener Listen(ProviderHost host, string instrument, Action<KeyValuePair<string, object?>[], long> onMeasurement)
    {
        var listener = new MeterListener();
        listener.InstrumentPublished = (i, l) =>
        {
            if (i.Meter.Name == OcspStaplingMetrics.MeterName && i.Name == instrument && ReferenceEquals(i.Meter, GetMeter(host)))
            {
                l.EnableMeasurementEvents(i);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) => onMeasurement(tags.ToArray(), value));
        listener.Start();
        return listener;
    }

    private static Meter GetMeter(ProviderHost host) => host.Metrics.Fetches.Meter;

    private static MeterListener ListenForFetchReasons(ProviderHost host, List<string?> reasons) =>
        Listen(host, "ocsp.stapling.fetch.count", (tags, _) =>
        {
            lock (reasons)
            {
                reasons.Add(tags.FirstOrDefault(t => t.Key == "reason").Value as string);
            }
        });

    private static MeterListener ListenForCacheErrors(ProviderHost host, List<string?> operations) =>
        Listen(host, "ocsp.stapling.cache.errors", (tags, _) =>
        {
            lock (operations)
            {
                operations.Add(tags.FirstOrDefault(t => t.Key == "operation").Value as string);
            }
        });
}
