using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tests.Testing;

public sealed class FakeTimeProviderTests
{
    [Fact]
    public async Task Advance_PastDelay_CompletesTaskDelay()
    {
        var sut = new FakeTimeProvider();
        Task delay = Task.Delay(TimeSpan.FromMinutes(5), sut);

        sut.Advance(TimeSpan.FromMinutes(4));
        Assert.False(delay.IsCompleted);
        sut.Advance(TimeSpan.FromMinutes(1));

        await delay.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(FakeTimeProvider.DefaultStart.AddMinutes(5), sut.GetUtcNow());
    }

    [Fact]
    public void Advance_PeriodicTimer_FiresAtEachDueTimeInOrder()
    {
        var sut = new FakeTimeProvider();
        var seen = new List<DateTimeOffset>();
        using ITimer timer = sut.CreateTimer(_ => seen.Add(sut.GetUtcNow()), null, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30));

        sut.Advance(TimeSpan.FromSeconds(75));

        Assert.Equal([FakeTimeProvider.DefaultStart.AddSeconds(10), FakeTimeProvider.DefaultStart.AddSeconds(40), FakeTimeProvider.DefaultStart.AddSeconds(70)], seen);
        Assert.Equal(FakeTimeProvider.DefaultStart.AddSeconds(75), sut.GetUtcNow());
    }

    [Fact]
    public void Dispose_Timer_NeverFires()
    {
        var sut = new FakeTimeProvider();
        int fired = 0;
        ITimer timer = sut.CreateTimer(_ => fired++, null, TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan);

        timer.Dispose();
        sut.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal(0, fired);
        Assert.Equal(0, sut.ActiveTimerCount);
    }
}
