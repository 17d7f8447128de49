using Microsoft.Extensions.Caching.Distributed;

namespace Ocsp.Stapling.Internal;

/// <summary>The store of <c>UseMemoryOnly()</c>: holds nothing. The provider recognises it and skips the shared-cache step altogether.</summary>
internal sealed class NoSharedCache : IDistributedCache
{
    public static readonly NoSharedCache Instance = new();

    public byte[]? Get(string key) => null;

    public Task<byte[]?> GetAsync(string key, CancellationToken token = default) => Task.FromResult<byte[]?>(null);

    public void Refresh(string key)
    {
    }

    public Task RefreshAsync(string key, CancellationToken token = default) => Task.CompletedTask;

    public void Remove(string key)
    {
    }

    public Task RemoveAsync(string key, CancellationToken token = default) => Task.CompletedTask;

    public void Set(string key, byte[] value, DistributedCacheEntryOptions options)
    {
    }

    public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default) => Task.CompletedTask;
}
