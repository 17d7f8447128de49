using Microsoft.Extensions.Caching.Distributed;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tests.Caching;

public sealed class FileSystemDistributedCacheTests : IDisposable
{
    private readonly FakeTimeProvider _time = new();
    private readonly string _directory = Directory.CreateTempSubdirectory("ocsp-fs-cache-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private FileSystemDistributedCache Create() => new(_directory, _time);

    [Fact]
    public void Set_ThenGetFromAnotherInstance_RoundTripsBytes()
    {
        byte[] value = [.. Enumerable.Range(0, 5000).Select(i => (byte)i)];
        Create().Set("key/with:odd chars", value, new DistributedCacheEntryOptions());

        Assert.Equal(value, Create().Get("key/with:odd chars"));
        Assert.Null(Create().Get("other"));
        Assert.Empty(Directory.GetFiles(_directory, "*.tmp"));
    }

    [Fact]
    public void Get_PastAbsoluteExpiration_IsAbsentAndFileRemoved()
    {
        FileSystemDistributedCache sut = Create();
        sut.Set("k", [1], new DistributedCacheEntryOptions { AbsoluteExpiration = _time.GetUtcNow().AddHours(1) });

        _time.Advance(TimeSpan.FromHours(1));

        Assert.Null(sut.Get("k"));
        Assert.Empty(Directory.GetFiles(_directory));
    }

    [Fact]
    public void Get_SlidingExpiration_ExtendedByReads()
    {
        FileSystemDistributedCache sut = Create();
        sut.Set("k", [1], new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(10) });

        _time.Advance(TimeSpan.FromMinutes(9));
        Assert.NotNull(sut.Get("k"));
        _time.Advance(TimeSpan.FromMinutes(9));
        Assert.NotNull(sut.Get("k"));
        _time.Advance(TimeSpan.FromMinutes(11));
        Assert.Null(sut.Get("k"));
    }

    [Fact]
    public void Get_CorruptEntry_IsAbsentAndRemoved_ForeignFilesUntouched()
    {
        FileSystemDistributedCache sut = Create();
        sut.Set("k", [1, 2, 3], new DistributedCacheEntryOptions());
        string entry = Assert.Single(Directory.GetFiles(_directory));
        File.WriteAllBytes(entry, [0xDE, 0xAD, 0xBE, 0xEF]);
        string foreign = Path.Combine(_directory, "README.txt");
        File.WriteAllText(foreign, "not ours");

        Assert.Null(sut.Get("k"));
        Assert.False(File.Exists(entry));
        Assert.True(File.Exists(foreign));
    }

    [Fact]
    public async Task ConcurrentWritersOnOneDirectory_ReadersNeverSeeTornEntries()
    {
        FileSystemDistributedCache a = Create(), b = Create();
        byte[] first = [.. Enumerable.Repeat((byte)1, 20_000)], second = [.. Enumerable.Repeat((byte)2, 20_000)];

        Task writers = Task.WhenAll(
            Task.Run(() => { for (int i = 0; i < 200; i++) { a.Set("k", first, new()); } }),
            Task.Run(() => { for (int i = 0; i < 200; i++) { b.Set("k", second, new()); } }));
        while (!writers.IsCompleted)
        {
            byte[]? read = a.Get("k");
            Assert.True(read is null || read.SequenceEqual(first) || read.SequenceEqual(second));
        }

        await writers;
        Assert.Empty(Directory.GetFiles(_directory, "*.tmp"));
    }

    [Fact]
    public void Compact_RemovesExpiredAndCorruptEntries()
    {
        FileSystemDistributedCache sut = Create();
        sut.Set("live", [1], new DistributedCacheEntryOptions { AbsoluteExpiration = _time.GetUtcNow().AddDays(1) });
        sut.Set("dying", [1], new DistributedCacheEntryOptions { AbsoluteExpiration = _time.GetUtcNow().AddHours(1) });
        File.WriteAllBytes(Path.Combine(_directory, "0000.entry"), [1, 2, 3]);
        _time.Advance(TimeSpan.FromHours(2));

        Assert.Equal(2, sut.Compact());
        Assert.NotNull(sut.Get("live"));
    }

    [Fact]
    public async Task Writes_CompactInTheBackground_OncePerInterval_ExpiredEntriesNobodyReadsAreDeleted()
    {
        FileSystemDistributedCache sut = Create();
        for (int i = 0; i < 50; i++)
        {
            sut.Set($"forgotten-{i}", [1], new DistributedCacheEntryOptions { AbsoluteExpiration = _time.GetUtcNow().AddMinutes(10) });
        }

        sut.Set("live", [1], new DistributedCacheEntryOptions { AbsoluteExpiration = _time.GetUtcNow().AddDays(1) });
        _time.Advance(TimeSpan.FromMinutes(20));
        sut.Set("early", [1], new DistributedCacheEntryOptions { AbsoluteExpiration = _time.GetUtcNow().AddDays(1) });
        await sut.LastCompaction;
        Assert.Equal(52, Directory.GetFiles(_directory, "*.entry").Length); // expired, but less than an interval since the store was opened: not yet

        _time.Advance(FileSystemDistributedCache.CompactionInterval);
        sut.Set("late", [1], new DistributedCacheEntryOptions { AbsoluteExpiration = _time.GetUtcNow().AddDays(1) });
        await sut.LastCompaction;

        Assert.Equal(3, Directory.GetFiles(_directory, "*.entry").Length); // live, early, late
        Assert.NotNull(sut.Get("live"));
    }

    [Fact]
    public void UseFileSystemCache_OnOpening_DeletesTemporaryFilesOfDeadWriters_OlderThan10Minutes_Only()
    {
        string abandoned = Path.Combine(_directory, ".abc.entry.0123.tmp");
        string underWay = Path.Combine(_directory, ".def.entry.4567.tmp");
        File.WriteAllBytes(abandoned, [1, 2]);
        File.WriteAllBytes(underWay, [1, 2]);
        File.SetLastWriteTimeUtc(abandoned, DateTime.UtcNow.AddMinutes(-11));
        _time.SetUtcNow(DateTimeOffset.UtcNow);

        using (var host = new ProviderHost(_time, b => b.UseFileSystemCache(_directory)))
        {
            Assert.NotNull(host.Provider); // the store is opened with the provider
        }

        Assert.False(File.Exists(abandoned));
        Assert.True(File.Exists(underWay));
    }

    [Fact]
    public void Remove_DeletesEntry()
    {
        FileSystemDistributedCache sut = Create();
        sut.Set("k", [1], new());

        sut.Remove("k");

        Assert.Null(sut.Get("k"));
    }
}
