using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Caching.Distributed;
using Ocsp.Stapling.Internal;

namespace Ocsp.Stapling;

/// <summary>
/// An <see cref="IDistributedCache"/> over a directory: the default shared store of Ocsp.Stapling, which survives restarts
/// and can be shared by processes on one machine (or a network file system). Each entry is one file written to a temporary
/// name and renamed into place, so readers never see a partial entry. Corrupt, foreign or expired entries read as absent
/// and are deleted; every <see cref="CompactionInterval"/> a write also deletes, in the background, every expired entry
/// nobody reads any more, so that the directory holds what is valid and little more. Reads through
/// <see cref="IBufferDistributedCache"/> ask the destination for the value's whole size before reading a byte of the file,
/// so a destination that refuses oversized values (the provider's does) never copies one.
/// </summary>
public sealed class FileSystemDistributedCache : IDistributedCache, IBufferDistributedCache
{
    private const uint Magic = 0x4F534643; // "OSFC"
    private const byte Version = 1;
    private const int HeaderSize = 4 + 1 + 8 + 8 + 8 + 4;
    private const string Extension = ".entry";
    private readonly TimeProvider _time;
    private long _nextCompactionTicks;
    private int _compacting;
    private volatile Task _lastCompaction = Task.CompletedTask;

    /// <summary>Initializes a new instance over <paramref name="directory"/>, creating it when missing.</summary>
    /// <param name="directory">The directory holding the entries.</param>
    /// <param name="timeProvider">The clock for expirations; <see langword="null"/> for the system clock.</param>
    public FileSystemDistributedCache(string directory, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        Directory = Path.GetFullPath(directory);
        System.IO.Directory.CreateDirectory(Directory);
        _time = timeProvider ?? TimeProvider.System;
        _nextCompactionTicks = (_time.GetUtcNow() + CompactionInterval).UtcTicks;
    }

    /// <summary>Gets the directory holding the entries.</summary>
    public string Directory { get; }

    /// <summary>Gets how often writes start a background deletion of the expired entries (as <c>ExpiredItemsDeletionInterval</c> of the SQL caches): 30 minutes.</summary>
    public static TimeSpan CompactionInterval { get; } = TimeSpan.FromMinutes(30);

    /// <summary>Gets the last background compaction (tests wait for it).</summary>
    internal Task LastCompaction => _lastCompaction;

    /// <inheritdoc />
    public byte[]? Get(string key) => Read(key, touch: true);

    /// <inheritdoc />
    public Task<byte[]?> GetAsync(string key, CancellationToken token = default)
    {
        token.ThrowIfCancellationRequested();
        return Task.FromResult(Read(key, touch: true));
    }

    /// <inheritdoc />
    bool IBufferDistributedCache.TryGet(string key, IBufferWriter<byte> destination) => TryGet(key, destination);

    /// <inheritdoc />
    ValueTask<bool> IBufferDistributedCache.TryGetAsync(string key, IBufferWriter<byte> destination, CancellationToken token)
    {
        token.ThrowIfCancellationRequested();
        return ValueTask.FromResult(TryGet(key, destination));
    }

    /// <inheritdoc />
    void IBufferDistributedCache.Set(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options) => Set(key, value.ToArray(), options);

    /// <inheritdoc />
    ValueTask IBufferDistributedCache.SetAsync(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options, CancellationToken token)
    {
        token.ThrowIfCancellationRequested();
        Set(key, value.ToArray(), options);
        return ValueTask.CompletedTask;
    }

    /// <summary>Reads an entry into <paramref name="destination"/>, which is asked for the value's whole size before the file is read.</summary>
    private bool TryGet(string key, IBufferWriter<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        int keyLength = Encoding.UTF8.GetByteCount(key ?? throw new ArgumentNullException(nameof(key)));

        // The value's size is known from the file's before it is read: the destination may refuse it unread.
        byte[]? value = Read(key, touch: true, fileSize => destination.GetSpan((int)Math.Clamp(fileSize - HeaderSize - keyLength, 0, int.MaxValue)));
        if (value is null)
        {
            return false;
        }

        destination.Write(value);
        return true;
    }

    /// <inheritdoc />
    public void Set(string key, byte[] value, DistributedCacheEntryOptions options)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(options);
        DateTimeOffset now = _time.GetUtcNow();
        DateTimeOffset? absolute = options.AbsoluteExpiration
            ?? (options.AbsoluteExpirationRelativeToNow is { } relative ? now + relative : null);
        if (absolute <= now)
        {
            Remove(key);
            return;
        }

        Write(key, value, absolute, options.SlidingExpiration, now);
        ScheduleCompaction(now);
    }

    /// <inheritdoc />
    public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
    {
        token.ThrowIfCancellationRequested();
        Set(key, value, options);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public void Refresh(string key) => Read(key, touch: true);

    /// <inheritdoc />
    public Task RefreshAsync(string key, CancellationToken token = default)
    {
        token.ThrowIfCancellationRequested();
        Refresh(key);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public void Remove(string key) => TryDelete(PathFor(key));

    /// <inheritdoc />
    public Task RemoveAsync(string key, CancellationToken token = default)
    {
        token.ThrowIfCancellationRequested();
        Remove(key);
        return Task.CompletedTask;
    }

    /// <summary>Lists the keys of the entries this store holds now (expired and corrupt entries are left out, and deleted).</summary>
    /// <returns>The keys, in no particular order.</returns>
    internal IReadOnlyList<string> GetKeys()
    {
        DateTimeOffset now = _time.GetUtcNow();
        var keys = new List<string>();
        foreach (string file in System.IO.Directory.EnumerateFiles(Directory, "*" + Extension))
        {
            if (ReadFile(file, null, now) is { } entry)
            {
                keys.Add(entry.Key);
            }
        }

        return keys;
    }

    /// <summary>
    /// Deletes expired and corrupt entries and temporary files abandoned by crashed writers (older than 10 minutes).
    /// Files that are not entries of this store are left alone.
    /// </summary>
    /// <returns>The number of files deleted.</returns>
    internal int Compact()
    {
        int deleted = DeleteAbandonedWrites();
        DateTimeOffset now = _time.GetUtcNow();
        foreach (string file in System.IO.Directory.EnumerateFiles(Directory, "*" + Extension))
        {
            if (ReadFile(file, null, now) is null && TryDelete(file))
            {
                deleted++;
            }
        }

        return deleted;
    }

    /// <summary>At most one compaction at a time, at most one per <see cref="CompactionInterval"/>, off the writer's thread.</summary>
    private void ScheduleCompaction(DateTimeOffset now)
    {
        if (now.UtcTicks < Interlocked.Read(ref _nextCompactionTicks) || Interlocked.CompareExchange(ref _compacting, 1, 0) != 0)
        {
            return;
        }

        Interlocked.Exchange(ref _nextCompactionTicks, (now + CompactionInterval).UtcTicks);
        _lastCompaction = Task.Run(() =>
        {
            try
            {
                Compact();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The directory went away or became unreadable: writes report that themselves; try again next interval.
            }
            finally
            {
                Volatile.Write(ref _compacting, 0);
            }
        });
    }

    /// <summary>
    /// Deletes the temporary files of writers that died mid-write (killed, power loss) once they are 10 minutes old; a
    /// write under way is never that old. Cheap (no entry is read): run when the store is opened by dependency injection.
    /// </summary>
    /// <returns>The number of files deleted.</returns>
    internal int DeleteAbandonedWrites()
    {
        int deleted = 0;
        DateTimeOffset now = _time.GetUtcNow();
        foreach (string file in System.IO.Directory.EnumerateFiles(Directory, "*" + DurableFile.TemporarySuffix))
        {
            if (now - File.GetLastWriteTimeUtc(file) > TimeSpan.FromMinutes(10) && TryDelete(file))
            {
                deleted++;
            }
        }

        return deleted;
    }

    private byte[]? Read(string key, bool touch, Action<long>? accept = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        string path = PathFor(key);
        DateTimeOffset now = _time.GetUtcNow();
        Entry? entry = ReadFile(path, key, now, accept);
        if (entry is null)
        {
            return null;
        }

        if (touch && entry.Sliding is { } sliding)
        {
            Write(key, entry.Value, entry.Absolute, sliding, now);
        }

        return entry.Value;
    }

    /// <summary>The entry in <paramref name="path"/>; <paramref name="accept"/> sees the file's size first (from the open handle: a file renamed into place meanwhile is not read instead) and may throw to leave it unread.</summary>
    private static Entry? ReadFile(string path, string? expectedKey, DateTimeOffset now, Action<long>? accept = null)
    {
        byte[] bytes;
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 1);
            long length = file.Length;
            accept?.Invoke(length);
            if (length > Array.MaxLength)
            {
                return null;
            }

            bytes = new byte[length];
            file.ReadExactly(bytes);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (IOException)
        {
            return null;
        }

        Entry? entry = Parse(bytes, expectedKey);
        if (entry is null || entry.IsExpired(now))
        {
            // Corrupt, foreign (hash collision or another writer's format) or expired: absent, and cleaned.
            TryDelete(path);
            return null;
        }

        return entry;
    }

    private static Entry? Parse(byte[] bytes, string? expectedKey)
    {
        if (bytes.Length < HeaderSize || BinaryPrimitives.ReadUInt32BigEndian(bytes) != Magic || bytes[4] != Version)
        {
            return null;
        }

        long absolute = BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(5));
        long sliding = BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(13));
        long lastAccess = BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(21));
        int keyLength = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(29));
        if (keyLength < 0 || keyLength > bytes.Length - HeaderSize || absolute < 0 || sliding < 0 || lastAccess < 0
            || absolute > DateTimeOffset.MaxValue.UtcTicks || lastAccess > DateTimeOffset.MaxValue.UtcTicks)
        {
            return null;
        }

        string key = Encoding.UTF8.GetString(bytes, HeaderSize, keyLength);
        if (expectedKey is not null && !string.Equals(key, expectedKey, StringComparison.Ordinal))
        {
            return null;
        }

        return new Entry(
            key,
            bytes[(HeaderSize + keyLength)..],
            absolute == 0 ? null : new DateTimeOffset(absolute, TimeSpan.Zero),
            sliding == 0 ? null : TimeSpan.FromTicks(sliding),
            new DateTimeOffset(lastAccess, TimeSpan.Zero));
    }

    private void Write(string key, byte[] value, DateTimeOffset? absolute, TimeSpan? sliding, DateTimeOffset now)
    {
        byte[] keyBytes = Encoding.UTF8.GetBytes(key);
        byte[] bytes = new byte[HeaderSize + keyBytes.Length + value.Length];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, Magic);
        bytes[4] = Version;
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(5), absolute?.UtcTicks ?? 0);
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(13), sliding?.Ticks ?? 0);
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(21), now.UtcTicks);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(29), keyBytes.Length);
        keyBytes.CopyTo(bytes, HeaderSize);
        value.CopyTo(bytes, HeaderSize + keyBytes.Length);

        string path = PathFor(key);

        // Two processes may write at once: a reader sees either the old or the new entry, never a torn one.
        DurableFile.WriteAtomically(path, bytes);
    }

    private string PathFor(string key)
    {
        // Keys are arbitrary text: name files by hash so that no key can escape the directory.
        string name = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
        return Path.Combine(Directory, name + Extension);
    }

    private static bool TryDelete(string path)
    {
        try
        {
            File.Delete(path);
            return true;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    private sealed record Entry(string Key, byte[] Value, DateTimeOffset? Absolute, TimeSpan? Sliding, DateTimeOffset LastAccess)
    {
        public bool IsExpired(DateTimeOffset now) => now >= Absolute || (Sliding is { } sliding && now >= LastAccess + sliding);
    }
}
