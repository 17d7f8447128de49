using Microsoft.Extensions.Caching.Distributed;
using Ocsp.Stapling.CacheConformance;

namespace Ocsp.Stapling.PostgreSql.Tests;

/// <summary>The conformance suite over PostgreSQL: a new table per test, a new cache instance per call over it.</summary>
public sealed class PostgreSqlDistributedCacheConformanceTests(PostgreSqlFixture database)
    : SharedStoreConformanceTests, IClassFixture<PostgreSqlFixture>, IAsyncLifetime
{
    private readonly string _table = PostgreSqlFixture.NewTableName();
    private readonly List<PostgreSqlDistributedCache> _caches = [];

    protected override IDistributedCache CreateCache()
    {
        database.SkipIfUnavailable();
        var cache = new PostgreSqlDistributedCache(database.Options(Time, _table));
        _caches.Add(cache);
        return cache;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (PostgreSqlDistributedCache cache in _caches)
        {
            await cache.DisposeAsync();
        }
    }
}
