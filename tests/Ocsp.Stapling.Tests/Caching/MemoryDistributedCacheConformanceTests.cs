using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Internal;
using Microsoft.Extensions.Options;
using Ocsp.Stapling.CacheConformance;

namespace Ocsp.Stapling.Tests.Caching;

/// <summary>Microsoft's in-process store (what <c>AddDistributedMemoryCache()</c> registers): the reference the suite is checked against.</summary>
public sealed class MemoryDistributedCacheConformanceTests : DistributedCacheConformanceTests
{
    private MemoryDistributedCache? _cache;

    // MemoryDistributedCache completes synchronously and does not look at the token (nothing to cancel).
    protected override bool ObservesCancellation => false;

    // No IBufferDistributedCache: the provider reads its values whole and checks their size after.
    protected override bool HasBufferedReads => false;

    // One store per test: an in-process cache is not shared between instances.
    protected override IDistributedCache CreateCache() =>
        _cache ??= new MemoryDistributedCache(Options.Create(new MemoryDistributedCacheOptions { Clock = new Clock(Time) }));

#pragma warning disable CS0618 // MemoryCacheOptions.Clock still takes ISystemClock.
    private sealed class Clock(TimeProvider time) : ISystemClock
#pragma warning restore CS0618
    {
        public DateTimeOffset UtcNow => time.GetUtcNow();
    }
}
