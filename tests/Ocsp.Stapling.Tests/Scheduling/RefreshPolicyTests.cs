using Ocsp.Stapling.Internal;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tests.Scheduling;

public sealed class RefreshPolicyTests(PkiFixture fixture) : IClassFixture<PkiFixture>
{
    private static readonly DateTimeOffset Now = FakeTimeProvider.DefaultStart;

    private OcspStaple Staple(DateTimeOffset thisUpdate, DateTimeOffset nextUpdate) =>
        new([0x30, 0x00], OcspCertificateId.Create(fixture.Pki.Leaf, fixture.Pki.Intermediate), OcspCertificateStatus.Good, thisUpdate, nextUpdate, thisUpdate, thisUpdate);

    private static OcspRefreshOptions Options(double jitter = 0) => new() { Jitter = jitter };

    [Fact]
    public void NextRefresh_FourDayWindow_AtHalfLife()
    {
        OcspStaple staple = Staple(Now, Now.AddDays(4));

        Assert.Equal(Now.AddDays(2), RefreshPolicy.NextRefresh(staple, Now, Options(), new Random(1)));
    }

    [Fact]
    public void NextRefresh_HalfLifeLeavesLessThanTheMinimum_AtTheMinimumRemainingValidity()
    {
        // 36 h window: half-life leaves 18 h, under the 1-day minimum, so refresh when 1 day is left (at 12 h).
        OcspStaple staple = Staple(Now, Now.AddHours(36));

        Assert.Equal(Now.AddHours(12), RefreshPolicy.NextRefresh(staple, Now, Options(), new Random(1)));
    }

    [Fact]
    public void NextRefresh_WindowShorterThanTheMinimum_FallsBackToHalfLifeInsteadOfLooping()
    {
        OcspStaple staple = Staple(Now, Now.AddHours(8));

        Assert.Equal(Now.AddHours(4), RefreshPolicy.NextRefresh(staple, Now, Options(), new Random(1)));
    }

    [Fact]
    public void NextRefresh_PastTheRefreshPoint_IsNow()
    {
        OcspStaple staple = Staple(Now.AddDays(-3), Now.AddDays(1));

        Assert.Equal(Now, RefreshPolicy.NextRefresh(staple, Now, Options(), new Random(1)));
    }

    [Fact]
    public void NextRefresh_WithJitter_IsEarlierNeverLater()
    {
        OcspStaple staple = Staple(Now, Now.AddDays(4));
        var random = new Random(7);
        DateTimeOffset[] times = [.. Enumerable.Range(0, 500).Select(_ => RefreshPolicy.NextRefresh(staple, Now, Options(jitter: 0.1), random))];

        Assert.All(times, t => Assert.InRange(t, Now.AddDays(2) - TimeSpan.FromDays(0.2), Now.AddDays(2)));
        Assert.True(times.Distinct().Count() > 400, "jitter spreads refreshes");
    }

    [Theory]
    [InlineData(1, 60)]
    [InlineData(2, 120)]
    [InlineData(3, 240)]
    [InlineData(6, 1920)]
    [InlineData(7, 3600)]
    [InlineData(40, 3600)]
    [InlineData(0, 60)]
    public void Backoff_DoublesFromTheBaseUpToTheMaximum(int failures, int seconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(seconds), RefreshPolicy.Backoff(failures, Options(), new Random(1)));
    }

    [Fact]
    public void Backoff_WithJitter_IsShorterNeverLonger()
    {
        var random = new Random(3);
        TimeSpan[] delays = [.. Enumerable.Range(0, 200).Select(_ => RefreshPolicy.Backoff(2, Options(jitter: 0.25), random))];

        Assert.All(delays, d => Assert.InRange(d, TimeSpan.FromSeconds(90), TimeSpan.FromSeconds(120)));
        Assert.True(delays.Distinct().Count() > 150);
    }
}
