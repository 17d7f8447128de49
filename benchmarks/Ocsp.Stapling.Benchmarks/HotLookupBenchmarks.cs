using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using BenchmarkDotNet.Attributes;
using Ocsp.Stapling.Internal;

namespace Ocsp.Stapling.Benchmarks;

/// <summary>
/// The per-handshake lookup. Baselines in the same run: a bare <see cref="ConcurrentDictionary{TKey, TValue}"/> keyed by
/// the same certificate reference (the floor), <see cref="IMemoryCache"/>, and <see cref="IDistributedCache.Get"/> on
/// <see cref="MemoryDistributedCache"/> and on the file-system store (what a naive design does per handshake).
/// </summary>
[MemoryDiagnoser]
public class HotLookupBenchmarks
{
    private ServiceProvider _services = null!;
    private OcspResponseProvider _provider = null!;
    private X509Certificate2 _target = null!;
    private ConcurrentDictionary<X509Certificate2, OcspStaple> _floor = null!;
    private MemoryCache _memory = null!;
    private MemoryDistributedCache _distributed = null!;
    private string _key = null!;
    private FileSystemDistributedCache _files = null!;
    private string _directory = null!;

    [Params(1, 100, 10_000)]
    public int Certificates { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var pki = new BenchmarkPki(TimeProvider.System.GetUtcNow());
        X509Certificate2[] leaves = pki.IssueLeaves(Certificates, new Uri("http://127.0.0.1:9/ocsp"));
        _target = leaves[Certificates / 2];
        OcspStaple staple = pki.Staple(_target);

        var services = new ServiceCollection();
        services.AddOcspStapling().UseMemoryOnly();
        _services = services.BuildServiceProvider();
        _provider = _services.GetRequiredService<OcspResponseProvider>();
        _floor = new ConcurrentDictionary<X509Certificate2, OcspStaple>(ReferenceEqualityComparer.Instance);
        _memory = new MemoryCache(Options.Create(new MemoryCacheOptions()));
        _distributed = new MemoryDistributedCache(Options.Create(new MemoryDistributedCacheOptions()));
        foreach (X509Certificate2 leaf in leaves)
        {
            _provider.Register(leaf, pki.Issuer);
            _floor[leaf] = staple;
            _memory.Set(leaf, staple);
            _distributed.Set(OcspCertificateId.Create(leaf, pki.Issuer, OcspHashAlgorithm.Sha1).CacheKey, staple.Encoded.ToArray());
        }

        RegistrationStore store = _services.GetRequiredService<RegistrationStore>();
        store.Adopt(store.Find(_target)!, staple, OcspStapleSource.Responder);
        _key = OcspCertificateId.Create(_target, pki.Issuer, OcspHashAlgorithm.Sha1).CacheKey;
        _directory = Path.Combine(Path.GetTempPath(), "ocsp-bench-" + Guid.NewGuid().ToString("N"));
        _files = new FileSystemDistributedCache(_directory);
        _files.Set(_key, staple.Encoded.ToArray());
        if (ProviderLookup() is null || MemoryCacheTryGetValue() is null || DistributedCacheGet() is null || FileSystemCacheGet() is null)
        {
            throw new InvalidOperationException("Benchmark setup: a lookup misses.");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _memory.Dispose();
        _services.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(Baseline = true, Description = "ConcurrentDictionary (floor)")]
    public OcspStaple? ConcurrentDictionaryFloor() => _floor.TryGetValue(_target, out OcspStaple? staple) ? staple : null;

    [Benchmark(Description = "Provider.TryGetCachedStaple")]
    [MustNotAllocate]
    public OcspStaple? ProviderLookup() => _provider.TryGetCachedStaple(_target, out OcspStaple? staple) ? staple : null;

    [Benchmark(Description = "IMemoryCache.TryGetValue")]
    public object? MemoryCacheTryGetValue() => _memory.TryGetValue(_target, out object? value) ? value : null;

    [Benchmark(Description = "IDistributedCache.Get (memory)")]
    public byte[]? DistributedCacheGet() => _distributed.Get(_key);

    [Benchmark(Description = "IDistributedCache.Get (file system)")]
    public byte[]? FileSystemCacheGet() => _files.Get(_key);
}
