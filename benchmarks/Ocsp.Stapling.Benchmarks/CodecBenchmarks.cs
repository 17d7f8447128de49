using System.Security.Cryptography.X509Certificates;
using BenchmarkDotNet.Attributes;
using Ocsp.Stapling.Internal;

namespace Ocsp.Stapling.Benchmarks;

/// <summary>Cold path, per refresh: request encoding with its GET URL, the cache key, the shared-cache entry format.</summary>
[MemoryDiagnoser]
public class CodecBenchmarks
{
    private static readonly Uri Responder = new("http://ocsp.example.test/");
    private BenchmarkPki _pki = null!;
    private X509Certificate2 _leaf = null!;
    private OcspStaple _staple = null!;
    private byte[] _entry = null!;

    [GlobalSetup]
    public void Setup()
    {
        _pki = new BenchmarkPki(TimeProvider.System.GetUtcNow());
        _leaf = _pki.IssueLeaves(1, Responder)[0];
        _staple = _pki.Staple(_leaf);
        _entry = StapleCacheEntry.Serialize(_staple);
    }

    [GlobalCleanup]
    public void Cleanup() => _pki.Dispose();

    [Benchmark(Description = "Request encode + GET URL")]
    public Uri EncodeRequest() => OcspHttpEncoding.GetRequestUri(Responder, OcspRequest.Create(_leaf, _pki.Issuer).Encoded.Span);

    [Benchmark(Description = "Cache key (SHA-1 CertID)")]
    public string CacheKey() => OcspCertificateId.Create(_leaf, _pki.Issuer, OcspHashAlgorithm.Sha1).CacheKey;

    [Benchmark(Description = "L2 entry serialise")]
    public byte[] SerializeEntry() => StapleCacheEntry.Serialize(_staple);

    [Benchmark(Description = "L2 entry deserialise")]
    public int DeserializeEntry() => StapleCacheEntry.TryDeserialize(_entry, out _, out ReadOnlyMemory<byte> der) ? der.Length : -1;
}
