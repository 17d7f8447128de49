using System.Text;
using Microsoft.Extensions.Caching.Distributed;
using Ocsp.Stapling.Internal;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.CacheConformance;

/// <summary>
/// What Ocsp.Stapling (and any other user) relies on from an <see cref="IDistributedCache"/> backend. Derive once per
/// backend; <see cref="CreateCache"/> must build the cache on <see cref="Time"/>, over a store empty for this test.
/// </summary>
public abstract class DistributedCacheConformanceTests
{
    private static readonly DistributedCacheEntryOptions NoExpiry = new();

    /// <summary>Gets the clock every cache of the test runs on.</summary>
    protected FakeTimeProvider Time { get; } = new();

    /// <summary>Gets a value indicating whether an already cancelled token makes the asynchronous calls throw before doing anything.
    /// In-process stores complete synchronously and may ignore it; stores doing I/O must not.</summary>
    protected virtual bool ObservesCancellation => true;

    /// <summary>Gets a value indicating whether entries expire on <see cref="Time"/>. A store that expires them on its
    /// server's own clock (Redis) cannot be driven by the fake clock: it overrides the expiry cases (they are virtual) with
    /// checks of the time-to-live the server holds.</summary>
    protected virtual bool ExpiresOnTheCacheClock => true;

    /// <summary>
    /// Gets a value indicating whether a buffered read (<see cref="IBufferDistributedCache"/>) asks its destination for the
    /// value's whole size before copying any of it, so that an oversized value is refused uncopied. The stores of this
    /// repository do; a store that copies in segments is still stopped at the destination's limit, one segment in.
    /// </summary>
    protected virtual bool AnnouncesValueSize => true;

    /// <summary>Gets a value indicating whether the store implements <see cref="IBufferDistributedCache"/> (every store of this repository does; .NET's in-memory one does not).</summary>
    protected virtual bool HasBufferedReads => true;

    /// <summary>Creates a cache over this test's store (call <c>Skip.If</c> inside when the backend is unavailable).</summary>
    protected abstract IDistributedCache CreateCache();

    [SkippableFact]
    public async Task Get_MissingKey_ReturnsNull()
    {
        IDistributedCache sut = CreateCache();

        Assert.Null(sut.Get("missing"));
        Assert.Null(await sut.GetAsync("missing"));
    }

    [SkippableFact]
    public async Task SetAsync_ThenGetAsync_RoundTripsEveryByteValue()
    {
        IDistributedCache sut = CreateCache();
        byte[] value = [.. Enumerable.Range(0, 4096).Select(i => (byte)(i * 7))];

        await sut.SetAsync("bytes", value, NoExpiry);
        await sut.SetAsync("empty", [], NoExpiry);

        Assert.Equal(value, await sut.GetAsync("bytes"));
        byte[]? empty = await sut.GetAsync("empty");
        Assert.NotNull(empty);
        Assert.Empty(empty);
    }

    [SkippableFact]
    public async Task BufferedRead_AsksForTheWholeValueFirst_SoAnOversizedOneIsRefusedUncopied()
    {
        IDistributedCache cache = CreateCache();
        if (!HasBufferedReads)
        {
            // The provider reads such a store's values whole and checks their size after: bounded in what it keeps, not in what it reads.
            Assert.False(cache is IBufferDistributedCache, $"{cache.GetType().Name} has buffered reads: set HasBufferedReads");
            return;
        }

        var sut = Assert.IsAssignableFrom<IBufferDistributedCache>(cache);
        byte[] large = new byte[1 << 20];
        System.Security.Cryptography.RandomNumberGenerator.Fill(large);
        await cache.SetAsync("large", large, NoExpiry);
        await cache.SetAsync("small", [1, 2, 3], NoExpiry);
        await cache.SetAsync("empty", [], NoExpiry);

        // The store asks the destination for the whole size before copying a byte: the provider's destination refuses it there.
        StoreEntryTooLargeException refused = await Assert.ThrowsAsync<StoreEntryTooLargeException>(() => sut.TryGetAsync("large", new BoundedBufferWriter(64 * 1024)).AsTask());
        Assert.Equal(AnnouncesValueSize ? large.Length : refused.Size, refused.Size);
        Assert.InRange(refused.Size, 64 * 1024 + 1, large.Length);

        var small = new BoundedBufferWriter(64 * 1024);
        Assert.True(await sut.TryGetAsync("small", small));
        Assert.Equal([1, 2, 3], small.ToArray());
        var empty = new BoundedBufferWriter(64 * 1024);
        Assert.True(await sut.TryGetAsync("empty", empty));
        Assert.Empty(empty.ToArray());
        Assert.False(await sut.TryGetAsync("missing", new BoundedBufferWriter(16)));
        var whole = new BoundedBufferWriter(2 << 20);
        Assert.True(sut.TryGet("large", whole));
        Assert.Equal(large, whole.ToArray());
    }

    [SkippableFact]
    public async Task SyncAndAsyncApis_SeeTheSameEntries()
    {
        IDistributedCache sut = CreateCache();

        sut.Set("sync", [1, 2, 3], NoExpiry);
        await sut.SetAsync("async", [4, 5], NoExpiry);

        Assert.Equal([1, 2, 3], await sut.GetAsync("sync"));
        Assert.Equal([4, 5], sut.Get("async"));
    }

    [SkippableFact]
    public async Task Set_ExistingKey_ReplacesValueAndExpiry()
    {
        IDistributedCache sut = CreateCache();
        await sut.SetAsync("k", [1], new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(1) });

        await sut.SetAsync("k", [2, 2], new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromHours(1) });
        Time.Advance(TimeSpan.FromMinutes(30));

        Assert.Equal([2, 2], await sut.GetAsync("k"));
    }

    [SkippableFact]
    public async Task Keys_AreExactOrdinalStrings()
    {
        IDistributedCache sut = CreateCache();
        string[] keys = ["Key", "key", "ocsp-stapling:sha1-ab/cd:01", "clé ключ 鍵 🔑", "with 'quotes' and \"double\"; DROP TABLE x; --", new string('k', 1000)];

        for (int i = 0; i < keys.Length; i++)
        {
            await sut.SetAsync(keys[i], Encoding.UTF8.GetBytes(keys[i]), NoExpiry);
        }

        foreach (string key in keys)
        {
            Assert.Equal(key, Encoding.UTF8.GetString((await sut.GetAsync(key))!));
        }

        Assert.Null(await sut.GetAsync("KEY"));
    }

    [SkippableFact]
    public async Task Remove_MakesTheKeyAbsent_AndMissingKeysAreFine()
    {
        IDistributedCache sut = CreateCache();
        await sut.SetAsync("a", [1], NoExpiry);
        sut.Set("b", [2], NoExpiry);

        await sut.RemoveAsync("a");
        sut.Remove("b");
        await sut.RemoveAsync("never-set");
        sut.Remove("never-set");

        Assert.Null(await sut.GetAsync("a"));
        Assert.Null(sut.Get("b"));
    }

    [SkippableFact]
    public virtual async Task AbsoluteExpiration_ReadableUntilItThenAbsent()
    {
        IDistributedCache sut = CreateCache();
        await sut.SetAsync("k", [1], new DistributedCacheEntryOptions { AbsoluteExpiration = Time.GetUtcNow().AddHours(1) });

        Time.Advance(TimeSpan.FromMinutes(59));
        Assert.NotNull(await sut.GetAsync("k"));
        Time.Advance(TimeSpan.FromMinutes(1));
        Assert.Null(await sut.GetAsync("k"));
        Assert.Null(sut.Get("k"));
    }

    [SkippableFact]
    public virtual async Task AbsoluteExpirationRelativeToNow_CountsFromTheSet()
    {
        IDistributedCache sut = CreateCache();
        Time.Advance(TimeSpan.FromDays(3));
        await sut.SetAsync("k", [1], new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(10) });

        Time.Advance(TimeSpan.FromMinutes(9));
        Assert.NotNull(await sut.GetAsync("k"));
        Time.Advance(TimeSpan.FromMinutes(2));
        Assert.Null(await sut.GetAsync("k"));
    }

    [SkippableFact]
    public async Task AbsoluteExpiration_AlreadyPast_LeavesNothingReadable()
    {
        IDistributedCache sut = CreateCache();

        // Microsoft's stores reject a past expiration (ArgumentOutOfRangeException); ours drop the entry. Either way: no entry.
        Exception? error = await Record.ExceptionAsync(() =>
            sut.SetAsync("k", [1], new DistributedCacheEntryOptions { AbsoluteExpiration = Time.GetUtcNow().AddSeconds(-1) }));

        Assert.True(error is null or ArgumentOutOfRangeException, $"Unexpected {error}");
        Assert.Null(await sut.GetAsync("k"));
    }

    [SkippableFact]
    public virtual async Task SlidingExpiration_ExtendedByGet()
    {
        IDistributedCache sut = CreateCache();
        await sut.SetAsync("k", [1], new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(10) });

        for (int i = 0; i < 3; i++)
        {
            Time.Advance(TimeSpan.FromMinutes(8));
            Assert.NotNull(await sut.GetAsync("k"));
        }

        Time.Advance(TimeSpan.FromMinutes(11));
        Assert.Null(await sut.GetAsync("k"));
    }

    [SkippableFact]
    public virtual async Task SlidingExpiration_ExtendedByRefresh_NotByTime()
    {
        IDistributedCache sut = CreateCache();
        await sut.SetAsync("refreshed", [1], new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(10) });
        await sut.SetAsync("idle", [2], new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(10) });

        Time.Advance(TimeSpan.FromMinutes(8));
        await sut.RefreshAsync("refreshed");
        await sut.RefreshAsync("never-set");
        Time.Advance(TimeSpan.FromMinutes(8));
        sut.Refresh("refreshed");
        Time.Advance(TimeSpan.FromMinutes(8));

        Assert.NotNull(await sut.GetAsync("refreshed"));
        Assert.Null(await sut.GetAsync("idle"));
    }

    [SkippableFact]
    public virtual async Task SlidingExpiration_NeverOutlivesTheAbsoluteOne()
    {
        IDistributedCache sut = CreateCache();
        await sut.SetAsync("k", [1], new DistributedCacheEntryOptions
        {
            SlidingExpiration = TimeSpan.FromMinutes(10),
            AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(25),
        });

        Time.Advance(TimeSpan.FromMinutes(9));
        Assert.NotNull(await sut.GetAsync("k"));
        Time.Advance(TimeSpan.FromMinutes(9));
        Assert.NotNull(await sut.GetAsync("k"));
        Time.Advance(TimeSpan.FromMinutes(8));
        Assert.Null(await sut.GetAsync("k"));
    }

    [SkippableFact]
    public async Task LargeValue_RoundTrips()
    {
        IDistributedCache sut = CreateCache();
        byte[] value = new byte[4 * 1024 * 1024];
        new Random(42).NextBytes(value);

        await sut.SetAsync("large", value, NoExpiry);

        Assert.Equal(value, await sut.GetAsync("large"));
    }

    [SkippableFact]
    public async Task ConcurrentWriters_SameKey_LastValueIsOneWholeWrite()
    {
        IDistributedCache sut = CreateCache();
        byte[][] values = [.. Enumerable.Range(1, 16).Select(i => Enumerable.Repeat((byte)i, 8192).ToArray())];

        await Task.WhenAll(values.Select(v => Task.Run(async () =>
        {
            for (int round = 0; round < 10; round++)
            {
                await sut.SetAsync("contended", v, NoExpiry);
                byte[]? seen = await sut.GetAsync("contended");
                Assert.NotNull(seen);
                Assert.Contains(values, candidate => candidate.AsSpan().SequenceEqual(seen));
            }
        })));

        byte[]? final = await sut.GetAsync("contended");
        Assert.NotNull(final);
        Assert.Contains(values, candidate => candidate.AsSpan().SequenceEqual(final));
    }

    [SkippableFact]
    public async Task ConcurrentWriters_DistinctKeys_AllLand()
    {
        IDistributedCache sut = CreateCache();

        await Task.WhenAll(Enumerable.Range(0, 64).Select(i => Task.Run(() => sut.SetAsync($"key-{i}", BitConverter.GetBytes(i), NoExpiry))));

        for (int i = 0; i < 64; i++)
        {
            Assert.Equal(BitConverter.GetBytes(i), await sut.GetAsync($"key-{i}"));
        }
    }

    [SkippableFact]
    public async Task CancelledToken_ThrowsAndWritesNothing()
    {
        IDistributedCache sut = CreateCache();
        await sut.SetAsync("kept", [1], NoExpiry);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        Exception? set = await Record.ExceptionAsync(() => sut.SetAsync("new", [2], NoExpiry, cancelled.Token));
        Exception? remove = await Record.ExceptionAsync(() => sut.RemoveAsync("kept", cancelled.Token));
        Exception? get = await Record.ExceptionAsync(() => sut.GetAsync("kept", cancelled.Token));

        if (ObservesCancellation)
        {
            Assert.IsAssignableFrom<OperationCanceledException>(set);
            Assert.IsAssignableFrom<OperationCanceledException>(remove);
            Assert.IsAssignableFrom<OperationCanceledException>(get);
            Assert.Null(await sut.GetAsync("new"));
            Assert.Equal([1], await sut.GetAsync("kept"));
        }
        else
        {
            Assert.All(new[] { set, remove, get }, e => Assert.True(e is null or OperationCanceledException, $"Unexpected {e}"));
        }
    }

    [SkippableFact]
    public async Task NullArguments_AreRejected()
    {
        IDistributedCache sut = CreateCache();

        await Assert.ThrowsAnyAsync<ArgumentNullException>(() => sut.GetAsync(null!));
        await Assert.ThrowsAnyAsync<ArgumentNullException>(() => sut.SetAsync(null!, [1], NoExpiry));
        await Assert.ThrowsAnyAsync<ArgumentNullException>(() => sut.SetAsync("k", null!, NoExpiry));
        Assert.ThrowsAny<ArgumentNullException>(() => sut.Remove(null!));
    }
}
