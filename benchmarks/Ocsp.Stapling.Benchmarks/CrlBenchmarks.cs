using System.Security.Cryptography.X509Certificates;
using BenchmarkDotNet.Attributes;
using Ocsp.Stapling.Internal;
using Ocsp.Stapling.Testing;
using Org.BouncyCastle.X509;

namespace Ocsp.Stapling.Benchmarks;

/// <summary>
/// A CRL of 10,000 and 100,000 entries (CI's quick run: 10,000), as client-certificate checks load it: read
/// (<c>ParsedCrl.Parse</c>: one pass, serials packed) and validated (<c>CrlValidation.Check</c>: the signature over
/// 3.9 MB and the checks), against BouncyCastle reading, verifying and listing it into a <c>HashSet</c> of serials
/// (Ratio 1.00). The memory a held CRL keeps is in benchmarks/README.md (the DER plus the packed serials).
/// </summary>
[MemoryDiagnoser]
public class CrlLoadBenchmarks
{
    private byte[] _der = [];
    private TestPki _pki = null!;
    private X509Certificate2 _issuer = null!;
    private readonly Uri _url = new("http://crl.test.invalid/ca.crl");

    public static IEnumerable<int> Sizes() =>
        Environment.GetEnvironmentVariable("OCSP_STAPLING_BENCHMARKS_QUICK") == "1" ? [10_000] : [10_000, 100_000];

    [ParamsSource(nameof(Sizes))]
    public int Entries { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _pki = TestPki.Create();
        _issuer = _pki.Intermediate;
        _der = TestCrls.BuildLarge(_issuer, Entries, _pki.Now.AddHours(-1), _pki.Now.AddDays(1));
        if (Load() != Entries || BouncyCastle() != Entries)
        {
            throw new InvalidOperationException("Benchmark setup: the CRL did not load.");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _pki.Dispose();

    [Benchmark(Baseline = true, Description = "BouncyCastle: read, verify, HashSet of serials")]
    public int BouncyCastle()
    {
        X509Crl crl = new X509CrlParser().ReadCrl(_der);
        crl.Verify(Org.BouncyCastle.Security.DotNetUtilities.GetRsaPublicKey(_issuer.GetRSAPublicKey()!));
        var serials = new HashSet<Org.BouncyCastle.Math.BigInteger>();
        foreach (X509CrlEntry entry in crl.GetRevokedCertificates())
        {
            serials.Add(entry.SerialNumber);
        }

        return serials.Count;
    }

    [Benchmark(Description = "Ocsp.Stapling: read, validate, packed serials")]
    public int Load()
    {
        ParsedCrl crl = ParsedCrl.Parse(_der);
        return CrlValidation.Check(crl, _issuer, _url, _pki.Now, TimeSpan.FromMinutes(5), held: null) is null ? crl.Revoked.Count : -1;
    }
}

/// <summary>One lookup per handshake in a CRL of 100,000 entries, listed and not listed, against a <c>HashSet&lt;string&gt;</c> of hex serials (Ratio 1.00); must not allocate.</summary>
[MemoryDiagnoser]
public class CrlLookupBenchmarks
{
    private CrlSerials _serials = null!;
    private HashSet<string> _hex = null!;
    private byte[] _listed = [];
    private byte[] _other = [];
    private string _listedHex = "";

    [GlobalSetup]
    public void Setup()
    {
        var builder = new CrlSerials.Builder();
        _hex = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < 100_000; i++)
        {
            byte[] serial = TestPki.NewSerial();
            builder.Add(serial, DateTimeOffset.UnixEpoch, OcspRevocationReason.Superseded);
            _hex.Add(Convert.ToHexString(serial));
            _listed = serial;
        }

        _serials = builder.Build();
        _listedHex = Convert.ToHexString(_listed);
        _other = TestPki.NewSerial();
        if (!_serials.TryFind(_listed, out _, out _) || _serials.TryFind(_other, out _, out _))
        {
            throw new InvalidOperationException("Benchmark setup: a lookup is wrong.");
        }
    }

    [Benchmark(Baseline = true, Description = "HashSet<string> of hex serials")]
    public bool HexSet() => _hex.Contains(_listedHex);

    [Benchmark(Description = "Packed serials, listed")]
    [MustNotAllocate]
    public bool Listed() => _serials.TryFind(_listed, out _, out _);

    [Benchmark(Description = "Packed serials, not listed")]
    [MustNotAllocate]
    public bool NotListed() => _serials.TryFind(_other, out _, out _);
}
