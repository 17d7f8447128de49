using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using BenchmarkDotNet.Attributes;
using Ocsp.Stapling.AspNetCore.Internal;
using Ocsp.Stapling.Internal;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Benchmarks;

/// <summary>
/// The certificate counts of the scale benchmarks: 1,000, 10,000 and 100,000; CI's quick run
/// (<c>OCSP_STAPLING_BENCHMARKS_QUICK=1</c>, set by <c>benchmarks/run.sh --quick</c>) stops at 10,000.
/// </summary>
public static class ScaleSizes
{
    public static IEnumerable<int> All() =>
        Environment.GetEnvironmentVariable("OCSP_STAPLING_BENCHMARKS_QUICK") == "1" ? [1_000, 10_000] : [1_000, 10_000, 100_000];
}

/// <summary>
/// A registry of N certificates of one CA (copies of one leaf with distinct serials, <see cref="SyntheticCertificates"/>)
/// and a memory L2 holding a valid, signed response for each, built once per N.
/// </summary>
public abstract class ScaleSetup
{
    private static readonly Dictionary<int, (BenchmarkPki Pki, X509Certificate2[] Leaves, MemoryDistributedCache L2)> Built = [];

    public static IEnumerable<int> Sizes => ScaleSizes.All();

    private protected BenchmarkPki Pki { get; private set; } = null!;

    protected X509Certificate2[] Leaves { get; private set; } = null!;

    protected MemoryDistributedCache SharedStore { get; private set; } = null!;

    protected abstract int Count { get; }

    protected void Build()
    {
        lock (Built)
        {
            if (!Built.TryGetValue(Count, out var built))
            {
                var pki = new BenchmarkPki(TimeProvider.System.GetUtcNow());
                X509Certificate2[] leaves = SyntheticCertificates.Clone(pki.IssueLeaves(1, new Uri("http://127.0.0.1:9/ocsp"))[0], Count);
                var l2 = new MemoryDistributedCache(Options.Create(new MemoryDistributedCacheOptions { SizeLimit = null }));
                Parallel.ForEach(leaves, leaf =>
                {
                    byte[] entry = StapleCacheEntry.Serialize(pki.Staple(leaf));
                    l2.Set("ocsp-stapling:" + OcspCertificateId.Create(leaf, pki.Issuer).CacheKey, entry, new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromDays(30) });
                });
                Built[Count] = built = (pki, leaves, l2);
            }

            (Pki, Leaves, SharedStore) = built;
        }
    }

    protected ServiceProvider NewProvider(bool withSharedStore)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        IOcspStaplingBuilder builder = services.AddOcspStapling();
        if (withSharedStore)
        {
            builder.UseDistributedCache(_ => SharedStore);
        }
        else
        {
            builder.UseMemoryOnly();
        }

        return services.BuildServiceProvider();
    }

    protected (X509Certificate2, X509Certificate2)[] Pairs() => [.. Leaves.Select(l => (l, Pki.Issuer))];
}

/// <summary>
/// What grows with the number of certificates, once per iteration on a fresh provider: registering them all, warming
/// them all up from a memory L2 (read and validate every entry: start-up after a restart), and one scheduler pass
/// (take every due registration and schedule it again). Compare per certificate across N (the table in benchmarks/README.md).
/// </summary>
[MemoryDiagnoser]
[InvocationCount(1)]
[WarmupCount(1)]
[IterationCount(5)]
public class ScaleBenchmarks : ScaleSetup
{
    private ServiceProvider _services = null!;
    private OcspResponseProvider _provider = null!;
    private (X509Certificate2, X509Certificate2)[] _pairs = null!;

    [ParamsSource(nameof(Sizes))]
    public int Certificates { get; set; }

    protected override int Count => Certificates;

    [GlobalSetup]
    public void Setup()
    {
        Build();
        _pairs = Pairs();
    }

    [IterationSetup(Target = nameof(RegisterAll))]
    public void FreshProvider()
    {
        _services = NewProvider(withSharedStore: false);
        _provider = _services.GetRequiredService<OcspResponseProvider>();
    }

    [IterationSetup(Targets = [nameof(WarmUpFromSharedStore), nameof(SchedulerPass)])]
    public void RegisteredProvider()
    {
        _services = NewProvider(withSharedStore: true);
        _provider = _services.GetRequiredService<OcspResponseProvider>();
        _provider.RegisterAll(_pairs);
    }

    [IterationCleanup]
    public void Cleanup() => _services.Dispose();

    [Benchmark(Description = "RegisterAll")]
    public int RegisterAll() => _provider.RegisterAll(_pairs);

    /// <summary>Start-up with a warm L2: every certificate stapled before the endpoint accepts, nobody asked (the responder URL is the discard port).</summary>
    [Benchmark(Description = "Warm-up from a memory L2")]
    public async Task<int> WarmUpFromSharedStore()
    {
        await Parallel.ForEachAsync(Leaves, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (leaf, token) => await _provider.WarmUpAsync(leaf, token));
        int stapled = Leaves.Count(leaf => _provider.TryGetCachedStaple(leaf, out _));
        return stapled == Leaves.Length ? stapled : throw new InvalidOperationException($"Warm-up stapled {stapled} of {Leaves.Length}.");
    }

    [Benchmark(Description = "Scheduler pass (take all due, schedule again)")]
    public int SchedulerPass()
    {
        RefreshScheduler scheduler = _services.GetRequiredService<RefreshScheduler>();
        DateTimeOffset now = TimeProvider.System.GetUtcNow();
        var taken = new List<Registration>(Certificates);
        while (scheduler.TryTakeDue(now, out Registration registration))
        {
            taken.Add(registration);
        }

        foreach (Registration registration in taken)
        {
            scheduler.Schedule(registration, now.AddDays(1));
        }

        return taken.Count == Certificates ? taken.Count : throw new InvalidOperationException($"{taken.Count} of {Certificates} were due.");
    }
}

/// <summary>
/// Per-request costs at N certificates: the handshake lookup against a bare <see cref="ConcurrentDictionary{TKey, TValue}"/>
/// read of the same keys (the floor, baseline), and the proxy's lookup by CertID in its index.
/// </summary>
[MemoryDiagnoser]
public class ScaleLookupBenchmarks : ScaleSetup
{
    private ServiceProvider _services = null!;
    private OcspResponseProvider _provider = null!;
    private ConcurrentDictionary<X509Certificate2, OcspStaple> _floor = null!;
    private OcspProxyIndex _index = null!;
    private X509Certificate2 _target = null!;
    private OcspCertificateId _targetId = null!;

    [ParamsSource(nameof(Sizes))]
    public int Certificates { get; set; }

    protected override int Count => Certificates;

    [GlobalSetup]
    public void Setup()
    {
        Build();
        _services = NewProvider(withSharedStore: false);
        _provider = _services.GetRequiredService<OcspResponseProvider>();
        _provider.RegisterAll(Pairs());
        _target = Leaves[Certificates / 2];
        OcspStaple staple = Pki.Staple(_target);
        RegistrationStore store = _services.GetRequiredService<RegistrationStore>();
        store.Adopt(store.Find(_target)!, staple, OcspStapleSource.Responder);
        _floor = new ConcurrentDictionary<X509Certificate2, OcspStaple>(ReferenceEqualityComparer.Instance);
        _index = new OcspProxyIndex([]);
        foreach (X509Certificate2 leaf in Leaves)
        {
            _floor[leaf] = staple;
            _index.Add(leaf, Pki.Issuer, [new Uri("http://127.0.0.1:9/ocsp")]);
        }

        _targetId = OcspCertificateId.Create(_target, Pki.Issuer);
        if (ProviderLookup() is null || ProxyIndexLookup() is null)
        {
            throw new InvalidOperationException("Benchmark setup: a lookup misses.");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _services.Dispose();

    [Benchmark(Baseline = true, Description = "ConcurrentDictionary (floor)")]
    public OcspStaple? ConcurrentDictionaryFloor() => _floor.TryGetValue(_target, out OcspStaple? staple) ? staple : null;

    [Benchmark(Description = "Provider.TryGetCachedStaple")]
    [MustNotAllocate]
    public OcspStaple? ProviderLookup() => _provider.TryGetCachedStaple(_target, out OcspStaple? staple) ? staple : null;

    [Benchmark(Description = "Proxy index by CertID")]
    public object? ProxyIndexLookup() => _index.Find(_targetId);
}
