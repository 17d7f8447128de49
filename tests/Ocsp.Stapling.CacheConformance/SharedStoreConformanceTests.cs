using Microsoft.Extensions.Caching.Distributed;

namespace Ocsp.Stapling.CacheConformance;

/// <summary>
/// For stores shared between processes (a restart, a fleet): two cache instances over the same store see each other's
/// writes, removals and expirations. <see cref="DistributedCacheConformanceTests.CreateCache"/> must return a new instance
/// over the same store on each call.
/// </summary>
public abstract class SharedStoreConformanceTests : DistributedCacheConformanceTests
{
    [SkippableFact]
    public async Task SecondInstance_SeesWritesRemovalsAndExpiry()
    {
        IDistributedCache writer = CreateCache();
        IDistributedCache reader = CreateCache();
        Assert.NotSame(writer, reader);

        await writer.SetAsync("shared", [1, 2, 3], new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromHours(1) });
        await writer.SetAsync("removed", [4], new DistributedCacheEntryOptions());
        await writer.RemoveAsync("removed");

        Assert.Equal([1, 2, 3], await reader.GetAsync("shared"));
        Assert.Null(await reader.GetAsync("removed"));
        if (ExpiresOnTheCacheClock)
        {
            Time.Advance(TimeSpan.FromHours(1));
            Assert.Null(await reader.GetAsync("shared"));
        }
    }

    [SkippableFact]
    public virtual async Task SlidingRefresh_ByOneInstance_KeepsTheEntryForAnother()
    {
        IDistributedCache first = CreateCache();
        IDistributedCache second = CreateCache();
        await first.SetAsync("k", [1], new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(10) });

        Time.Advance(TimeSpan.FromMinutes(8));
        await first.RefreshAsync("k");
        Time.Advance(TimeSpan.FromMinutes(8));

        Assert.NotNull(await second.GetAsync("k"));
    }
}
