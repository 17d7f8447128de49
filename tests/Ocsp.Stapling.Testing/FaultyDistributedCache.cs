using System.Collections.Concurrent;
using Microsoft.Extensions.Caching.Distributed;

namespace Ocsp.Stapling.Testing;

/// <summary>
/// An in-memory <see cref="IDistributedCache"/> on a <see cref="TimeProvider"/> (MemoryDistributedCache reads the real clock),
/// with switchable faults: throw, hang (ignoring cancellation), lose writes. Counts calls and signals when one starts.
/// </summary>
public sealed class FaultyDistributedCache(TimeProvider time) : IDistributedCache
{
    private readonly ConcurrentDictionary<string, (byte[] Value, DateTimeOffset? Expires)> _entries = new(StringComparer.Ordinal);
    private TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _callStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _reads;
    private int _writes;

    public CacheFault Fault { get; set; }

    public int Reads => Volatile.Read(ref _reads);

    public int Writes => Volatile.Read(ref _writes);

    public int Count => _entries.Count;

    /// <summary>Completes when the next call starts (then re-arms).</summary>
    public Task NextCallStarted => Volatile.Read(ref _callStarted).Task;

    public void ReleaseHung() => Interlocked.Exchange(ref _release, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    public byte[]? Get(string key) => GetAsync(key).GetAwaiter().GetResult();

    public async Task<byte[]?> GetAsync(string key, CancellationToken token = default)
    {
        Interlocked.Increment(ref _reads);
        await EnterAsync().ConfigureAwait(false);
        if (_entries.TryGetValue(key, out var entry))
        {
            if (entry.Expires is null || time.GetUtcNow() < entry.Expires)
            {
                return entry.Value;
            }

            _entries.TryRemove(key, out _);
        }

        return null;
    }

    public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => SetAsync(key, value, options).GetAwaiter().GetResult();

    public async Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
    {
        Interlocked.Increment(ref _writes);
        await EnterAsync().ConfigureAwait(false);
        if (Fault == CacheFault.LoseWrites)
        {
            return;
        }

        DateTimeOffset? expires = options.AbsoluteExpiration ?? (options.AbsoluteExpirationRelativeToNow is { } relative ? time.GetUtcNow() + relative : null);
        _entries[key] = ((byte[])value.Clone(), expires);
    }

    public void Refresh(string key)
    {
    }

    public Task RefreshAsync(string key, CancellationToken token = default) => EnterAsync();

    public void Remove(string key) => _entries.TryRemove(key, out _);

    public async Task RemoveAsync(string key, CancellationToken token = default)
    {
        await EnterAsync().ConfigureAwait(false);
        _entries.TryRemove(key, out _);
    }

    private async Task EnterAsync()
    {
        Task release = Volatile.Read(ref _release).Task;
        Interlocked.Exchange(ref _callStarted, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        switch (Fault)
        {
            case CacheFault.Throw:
                throw new InvalidOperationException("Simulated cache outage.");
            case CacheFault.Hang:
                await release.ConfigureAwait(false);
                break;
        }
    }
}
