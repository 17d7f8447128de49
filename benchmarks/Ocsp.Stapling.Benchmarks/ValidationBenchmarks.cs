using System.Security.Cryptography.X509Certificates;
using BenchmarkDotNet.Attributes;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Benchmarks;

/// <summary>Cold path, per fetched response: parse + full validation, for RSA-2048 and ECDSA P-256 signers, issuer-signed and delegated.</summary>
[MemoryDiagnoser]
public class ValidationBenchmarks
{
    private BenchmarkPki _pki = null!;
    private X509Certificate2 _leaf = null!;
    private byte[] _response = null!;

    [Params("rsa-2048", "ecdsa-p256")]
    public string Key { get; set; } = "";

    [Params("issuer", "delegated")]
    public string Signer { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        _pki = new BenchmarkPki(TimeProvider.System.GetUtcNow(), rsa: Key == "rsa-2048");
        _leaf = _pki.IssueLeaves(1, new Uri("http://ocsp.example.test/"))[0];
        OcspResponseBuilder builder = OcspResponseBuilder.For(_leaf, _pki.Issuer, _pki.Now);
        if (Signer == "delegated")
        {
            builder.Signer = _pki.IssueResponder();
            builder.IncludeSignerCertificate = true;
        }

        _response = builder.Build();
        if (!ParseAndValidate())
        {
            throw new InvalidOperationException("Benchmark setup: the response does not validate.");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _pki.Dispose();

    [Benchmark(Description = "Parse")]
    public int Parse() => OcspResponse.Parse(_response).Responses.Count;

    [Benchmark(Description = "Parse + validate")]
    public bool ParseAndValidate() => OcspResponseValidator.Validate(_response, _leaf, _pki.Issuer, _pki.Now).IsValid;
}
