using Ocsp.Stapling.Internal;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tests.Fetching;

/// <summary>The per-responder-host limits, on the fake clock: concurrency slots and a token bucket of one second's worth.</summary>
public sealed class ResponderHostLimitsTests
{
    private static readonly Uri Ca = new("http://ocsp.ca.test/");
    private static readonly Uri OtherCa = new("http://ocsp.other.test:8080/");
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task Rate_ABurstOfOneSecondsWorth_ThenOnePerInterval_OnTheFakeClock()
    {
        var sut = new ResponderHostLimits(_time, new OcspFetchOptions { MaxRequestsPerSecondPerHost = 2, MaxConcurrentRequestsPerHost = 100 });

        Task<IDisposable>[] leases = [.. Enumerable.Range(0, 5).Select(_ => sut.AcquireAsync(Ca, CancellationToken.None).AsTask())];
        await Task.WhenAll(leases[0], leases[1]);
        await _time.WhenActiveTimersAsync(3); // the other three wait for tokens, each on a timer

        Assert.Equal(2, leases.Count(l => l.IsCompleted));
        _time.Advance(TimeSpan.FromSeconds(0.5)); // one token more: one of the three goes, the other two wait again
        await Task.WhenAny(leases[2..]);
        await _time.WhenActiveTimersAsync(2);
        Assert.Equal(3, leases.Count(l => l.IsCompleted));
        _time.Advance(TimeSpan.FromSeconds(1));
        await Task.WhenAll(leases);

        // Another host has its own bucket.
        Assert.True(sut.AcquireAsync(OtherCa, CancellationToken.None).AsTask().IsCompletedSuccessfully);
    }

    [Fact]
    public async Task Concurrency_ASlotIsFreedWhenTheLeaseIsDisposed_Once()
    {
        var sut = new ResponderHostLimits(_time, new OcspFetchOptions { MaxConcurrentRequestsPerHost = 2, MaxRequestsPerSecondPerHost = 1000 });
        IDisposable first = await sut.AcquireAsync(Ca, CancellationToken.None);
        IDisposable second = await sut.AcquireAsync(Ca, CancellationToken.None);

        Task<IDisposable> third = sut.AcquireAsync(Ca, CancellationToken.None).AsTask();
        Task<IDisposable> fourth = sut.AcquireAsync(Ca, CancellationToken.None).AsTask();
        Assert.False(third.IsCompleted);

        first.Dispose();
        first.Dispose(); // a second dispose frees nothing more
        await third;
        Assert.False(fourth.IsCompleted);
        second.Dispose();
        await fourth;
    }

    [Fact]
    public async Task Cancelled_WhileWaiting_GivesItsSlotBack()
    {
        var sut = new ResponderHostLimits(_time, new OcspFetchOptions { MaxConcurrentRequestsPerHost = 1, MaxRequestsPerSecondPerHost = 1 });
        (await sut.AcquireAsync(Ca, CancellationToken.None)).Dispose();
        using var cancel = new CancellationTokenSource();

        Task<IDisposable> waiting = sut.AcquireAsync(Ca, cancel.Token).AsTask(); // holds the slot, waits for a token
        await _time.WhenActiveTimersAsync(1);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await waiting);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(sut.AcquireAsync(Ca, CancellationToken.None).AsTask().IsCompletedSuccessfully);
    }
}
