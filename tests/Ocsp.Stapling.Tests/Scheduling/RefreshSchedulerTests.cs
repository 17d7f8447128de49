using Ocsp.Stapling.Internal;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tests.Scheduling;

public sealed class RefreshSchedulerTests(PkiFixture fixture) : IClassFixture<PkiFixture>
{
    private readonly FakeTimeProvider _time = new();

    private Registration NewRegistration() => Registration.Create(fixture.Pki.Leaf, fixture.Pki.Intermediate, new OcspFetchOptions());

    [Fact]
    public void TryTakeDue_TakesInDueOrder_OnlyWhatIsDue()
    {
        var sut = new RefreshScheduler(_time);
        DateTimeOffset now = _time.GetUtcNow();
        Registration late = NewRegistration();
        Registration early = NewRegistration();
        Registration future = NewRegistration();
        sut.Schedule(late, now.AddMinutes(-1));
        sut.Schedule(early, now.AddMinutes(-5));
        sut.Schedule(future, now.AddMinutes(1));

        Assert.True(sut.TryTakeDue(now, out Registration first));
        Assert.True(sut.TryTakeDue(now, out Registration second));
        Assert.False(sut.TryTakeDue(now, out _));

        Assert.Same(early, first);
        Assert.Same(late, second);
        Assert.True(sut.TryTakeDue(now.AddMinutes(1), out Registration third));
        Assert.Same(future, third);
    }

    [Fact]
    public void Schedule_Again_ReplacesTheEarlierTime_TakenOnce()
    {
        var sut = new RefreshScheduler(_time);
        DateTimeOffset now = _time.GetUtcNow();
        Registration registration = NewRegistration();
        sut.Schedule(registration, now);
        sut.Schedule(registration, now.AddHours(1));

        Assert.False(sut.TryTakeDue(now, out _));
        Assert.Equal(now.AddHours(1), registration.State.NextRefresh);
        Assert.True(sut.TryTakeDue(now.AddHours(1), out _));
        Assert.False(sut.TryTakeDue(now.AddDays(1), out _));
    }

    [Fact]
    public void Schedule_Never_OrRemoved_IsNotTaken()
    {
        var sut = new RefreshScheduler(_time);
        DateTimeOffset now = _time.GetUtcNow();
        Registration never = NewRegistration();
        Registration removed = NewRegistration();
        sut.Schedule(never, DateTimeOffset.MaxValue);
        sut.Schedule(removed, now);
        removed.Write(0, static (state, _) => state with { Removed = true });

        Assert.False(sut.TryTakeDue(DateTimeOffset.MaxValue.AddDays(-1), out _));
        Assert.Equal(DateTimeOffset.MaxValue, never.State.NextRefresh);
    }

    [Fact]
    public async Task WaitAsync_ReturnsWhenTheEarliestFallsDueOnTheClock()
    {
        var sut = new RefreshScheduler(_time);
        sut.Schedule(NewRegistration(), _time.GetUtcNow().AddMinutes(10));

        Task wait = sut.WaitAsync(CancellationToken.None);
        _time.Advance(TimeSpan.FromMinutes(9));
        Assert.False(wait.IsCompleted);
        _time.Advance(TimeSpan.FromMinutes(1));

        await wait.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(sut.TryTakeDue(_time.GetUtcNow(), out _));
    }

    [Fact]
    public async Task WaitAsync_NothingQueued_ReturnsWhenSomethingIsScheduled()
    {
        var sut = new RefreshScheduler(_time);
        Task wait = sut.WaitAsync(CancellationToken.None);
        Assert.False(wait.IsCompleted);

        sut.Schedule(NewRegistration(), _time.GetUtcNow());

        await wait.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task WaitAsync_Cancelled_Throws()
    {
        var sut = new RefreshScheduler(_time);
        using var stop = new CancellationTokenSource();
        Task wait = sut.WaitAsync(stop.Token);

        await stop.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait.WaitAsync(TimeSpan.FromSeconds(30)));
    }
}
