using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tests.Testing;

/// <summary>The signals the test kit adds to Microsoft.Extensions.TimeProvider.Testing's clock.</summary>
public sealed class FakeTimeProviderTests
{
    [Fact]
    public async Task WhenTimerDueAtAsync_CompletesWhenADelayOfThatLengthStarts_AndTheDelayEndsOnAdvance()
    {
        var sut = new FakeTimeProvider();
        Task signal = sut.WhenTimerDueAtAsync(FakeTimeProvider.DefaultStart.AddMinutes(5));
        Assert.False(signal.IsCompleted);

        Task delay = Task.Delay(TimeSpan.FromMinutes(5), sut);
        await signal.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(1, sut.ActiveTimerCount);

        sut.Advance(TimeSpan.FromMinutes(5));
        await delay.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, sut.ActiveTimerCount);
    }

    [Fact]
    public async Task WhenActiveTimersAsync_CountsScheduledTimers_NotDisposedOrFiredOnes()
    {
        var sut = new FakeTimeProvider();
        int fired = 0;
        using ITimer once = sut.CreateTimer(_ => fired++, null, TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan);
        ITimer disposed = sut.CreateTimer(_ => fired += 100, null, TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan);
        using ITimer periodic = sut.CreateTimer(_ => fired += 10, null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        await sut.WhenActiveTimersAsync(3).WaitAsync(TimeSpan.FromSeconds(30));

        disposed.Dispose();
        sut.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal(1 + 20, fired);
        Assert.Equal(1, sut.ActiveTimerCount); // the periodic one
        Task two = sut.WhenActiveTimersAsync(2);
        Assert.False(two.IsCompleted);
        using ITimer another = sut.CreateTimer(_ => { }, null, TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan);
        await two.WaitAsync(TimeSpan.FromSeconds(30));
    }
}
