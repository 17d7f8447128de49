using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Ocsp.Stapling.Internal;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tests.Scheduling;

/// <summary>
/// The system clock steps (issue 19, item 7): the wall clock jumps while timers run on the monotonic clock. No staple is
/// served past its nextUpdate, there is no refresh storm, and the schedule recovers.
/// </summary>
public sealed class ClockStepTests(ResponderFixture fixture) : IClassFixture<ResponderFixture>
{
    private const int Certificates = 10;

    private readonly FakeTimeProvider _time = fixture.Reset();
    private readonly TestOcspResponder _responder = fixture.Responder;

    [Fact]
    public async Task OneDayForward_StaplesPastNextUpdateStopAtTheNextCheck_EachRefreshedOnce_ThenRecover()
    {
        var clock = new SteppedClock(_time);
        _responder.Time = clock; // the responder keeps true time; ours was behind and is corrected
        _responder.Validity = TimeSpan.FromHours(12);
        using var host = new ProviderHost(clock, b => b.UseMemoryOnly(), o => o.Fetch.CircuitBreaker.MinimumThroughput = 1000); // the scheduler alone

        X509Certificate2[] leaves = await StapledAsync(host);
        host.Services.GetRequiredService<ClockStepWatch>().Start();
        _responder.Fault = ResponderFault.Down;
        _responder.ResetCount();

        clock.Step(TimeSpan.FromDays(1));
        Assert.True(host.Provider.TryGetCachedStaple(leaves[0], out _)); // the expiry timers (monotonic) have not fired
        _time.Advance(ClockStepWatch.Interval);                         // the watch's next look at the clocks

        Assert.All(leaves, leaf => Assert.False(host.Provider.TryGetCachedStaple(leaf, out _)));
        Assert.Contains(host.Logs.Entries, e => e.EventId == Log.ClockSteppedId && e.Message.Contains($"{Certificates} staple(s)", StringComparison.Ordinal));

        // Every refresh is due once however far the clock jumped: one request per certificate, then the back-off.
        await host.RunDueAsync(CancellationToken.None);
        await host.RunDueAsync(CancellationToken.None);
        Assert.Equal(Certificates, _responder.RequestCount);

        _responder.Fault = ResponderFault.None;
        _time.Advance(TimeSpan.FromMinutes(1)); // the first back-off
        await host.RunDueAsync(CancellationToken.None);
        Assert.All(leaves, leaf => Assert.True(host.Provider.TryGetCachedStaple(leaf, out OcspStaple? staple) && staple.IsValidAt(clock.GetUtcNow())));
        Assert.Equal(2 * Certificates, _responder.RequestCount);
    }

    [Fact]
    public async Task OneHourBack_StaplesKept_NothingFetchedEarly_ScheduleRecovers()
    {
        var clock = new SteppedClock(_time);
        _responder.Time = clock;
        using var host = new ProviderHost(clock, b => b.UseMemoryOnly());
        X509Certificate2[] leaves = await StapledAsync(host);
        host.Services.GetRequiredService<ClockStepWatch>().Start();
        DateTimeOffset[] nextRefresh = leaves.Select(l => host.Provider.GetState(l)!.NextRefresh!.Value).ToArray();
        _responder.ResetCount();

        clock.Step(TimeSpan.FromHours(-1));
        _time.Advance(ClockStepWatch.Interval);
        await host.RunDueAsync(CancellationToken.None);

        Assert.Contains(host.Logs.Entries, e => e.EventId == Log.ClockSteppedId && e.Message.Contains("-01:00:00", StringComparison.Ordinal));
        Assert.All(leaves, leaf => Assert.True(host.Provider.TryGetCachedStaple(leaf, out _)));
        Assert.Equal(0, _responder.RequestCount);

        // The schedule is in wall-clock time: due when the (stepped) clock reaches it, each once.
        _time.Advance(nextRefresh.Max() - clock.GetUtcNow());
        await host.RunDueAsync(CancellationToken.None);
        Assert.Equal(Certificates, _responder.RequestCount);
        Assert.All(leaves, leaf => Assert.True(host.Provider.GetState(leaf)!.Staple!.ThisUpdate > nextRefresh.Min() - TimeSpan.FromDays(4)));
    }

    [Fact]
    public async Task StepForwardThenBack_AStapleExpiredByAClockAheadIsServedAgain_WhileItIsValid()
    {
        // Found by the fault simulation: a clock ahead stopped a staple as expired; once the clock was set right, the
        // staple, valid again, stayed unserved until the next refresh.
        var clock = new SteppedClock(_time);
        _responder.Time = clock;
        _responder.Validity = TimeSpan.FromHours(12);
        using var host = new ProviderHost(clock, b => b.UseMemoryOnly(), o => o.Fetch.CircuitBreaker.MinimumThroughput = 1000);
        X509Certificate2[] leaves = await StapledAsync(host);
        ClockStepWatch watch = host.Services.GetRequiredService<ClockStepWatch>();
        watch.Start();
        _responder.Fault = ResponderFault.Down;

        clock.Step(TimeSpan.FromDays(1));
        watch.Check();
        Assert.All(leaves, leaf => Assert.False(host.Provider.TryGetCachedStaple(leaf, out _)));

        clock.Step(TimeSpan.FromDays(-1));
        watch.Check();
        Assert.All(leaves, leaf => Assert.True(host.Provider.TryGetCachedStaple(leaf, out OcspStaple? staple) && staple.IsValidAt(clock.GetUtcNow())));

        // And its timer is armed again: it stops at its nextUpdate.
        _time.Advance(TimeSpan.FromHours(12));
        Assert.All(leaves, leaf => Assert.False(host.Provider.TryGetCachedStaple(leaf, out _)));
    }

    [Fact]
    public void Check_ClocksInStep_NoStep()
    {
        var clock = new SteppedClock(_time);
        using var host = new ProviderHost(clock, b => b.UseMemoryOnly());
        var watch = host.Services.GetRequiredService<ClockStepWatch>();
        watch.Start();

        _time.Advance(TimeSpan.FromHours(5));

        Assert.Equal(TimeSpan.Zero, watch.Check());
        Assert.DoesNotContain(host.Logs.Entries, e => e.EventId == Log.ClockSteppedId);
    }

    private async Task<X509Certificate2[]> StapledAsync(ProviderHost host)
    {
        X509Certificate2[] leaves = Enumerable.Range(0, Certificates).Select(_ => fixture.NewLeaf("clock")).ToArray();
        foreach (X509Certificate2 leaf in leaves)
        {
            host.Provider.Register(leaf, fixture.Pki.Intermediate);
            Assert.NotNull((await host.Provider.RefreshAsync(leaf)).Response);
        }

        return leaves;
    }
}
