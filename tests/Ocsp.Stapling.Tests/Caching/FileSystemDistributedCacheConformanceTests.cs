using Microsoft.Extensions.Caching.Distributed;
using Ocsp.Stapling.CacheConformance;

namespace Ocsp.Stapling.Tests.Caching;

/// <summary>The default store: a directory shared by every instance (and process) pointed at it.</summary>
public sealed class FileSystemDistributedCacheConformanceTests : SharedStoreConformanceTests, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ocsp-fs-conformance-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    protected override IDistributedCache CreateCache() => new FileSystemDistributedCache(_directory, Time);
}
