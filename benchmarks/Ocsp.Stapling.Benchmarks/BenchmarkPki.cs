using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Benchmarks;

/// <summary>
/// Many certificates, cheaply: a CA (ECDSA P-256 or RSA-2048) signing leaves that share one key (only serials differ).
/// A registry of 10,000 is built in seconds; lookups do not care about keys.
/// </summary>
internal sealed class BenchmarkPki : IDisposable
{
    private readonly ECDsa _leafKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly X509SignatureGenerator _signer;

    public BenchmarkPki(DateTimeOffset now, bool rsa = false)
    {
        Now = now;
        using AsymmetricAlgorithm caKey = rsa ? RSA.Create(2048) : ECDsa.Create(ECCurve.NamedCurves.nistP256);
        CertificateRequest request = rsa
            ? new CertificateRequest("CN=Benchmark CA", (RSA)caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            : new CertificateRequest("CN=Benchmark CA", (ECDsa)caKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        Issuer = request.CreateSelfSigned(now.AddYears(-1), now.AddYears(5));

        // Leaves have ECDSA keys whatever the CA's: sign them through a generator for the CA's key type.
        _signer = Issuer.GetRSAPrivateKey() is { } rsaKey
            ? X509SignatureGenerator.CreateForRSA(rsaKey, RSASignaturePadding.Pkcs1)
            : X509SignatureGenerator.CreateForECDsa(Issuer.GetECDsaPrivateKey()!);
    }

    public DateTimeOffset Now { get; }

    public X509Certificate2 Issuer { get; }

    public X509Certificate2[] IssueLeaves(int count, Uri ocspUrl)
    {
        var leaves = new X509Certificate2[count];
        for (int i = 0; i < count; i++)
        {
            var request = new CertificateRequest($"CN=site{i}.bench", _leafKey, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509AuthorityInformationAccessExtension([ocspUrl.AbsoluteUri], null));
            leaves[i] = request.Create(Issuer.SubjectName, _signer, Now.AddDays(-1), Now.AddDays(90), TestPki.NewSerial());
        }

        return leaves;
    }

    /// <summary>A TLS server certificate for <paramref name="dnsName"/> with the shared leaf key (AIA only with <paramref name="ocspUrl"/>).</summary>
    public X509Certificate2 IssueServerLeaf(string dnsName, Uri? ocspUrl)
    {
        var request = new CertificateRequest($"CN={dnsName}", _leafKey, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(dnsName);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        if (ocspUrl is not null)
        {
            request.CertificateExtensions.Add(new X509AuthorityInformationAccessExtension([ocspUrl.AbsoluteUri], null));
        }
        using X509Certificate2 issued = request.Create(Issuer.SubjectName, _signer, Now.AddDays(-1), Now.AddDays(90), TestPki.NewSerial());
        return issued.CopyWithPrivateKey(_leafKey);
    }

    /// <summary>A delegated OCSP responder certificate (id-kp-OCSPSigning) with a key of the CA's type, issued by the CA.</summary>
    public X509Certificate2 IssueResponder()
    {
        using AsymmetricAlgorithm key = Issuer.GetRSAPublicKey() is not null ? RSA.Create(2048) : ECDsa.Create(ECCurve.NamedCurves.nistP256);
        CertificateRequest request = key is RSA rsa
            ? new CertificateRequest("CN=Benchmark OCSP Responder", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            : new CertificateRequest("CN=Benchmark OCSP Responder", (ECDsa)key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(TestPki.OcspSigningOid)], true));
        using X509Certificate2 issued = request.Create(Issuer, Now.AddDays(-1), Now.AddYears(1), TestPki.NewSerial());
        return key is RSA r ? issued.CopyWithPrivateKey(r) : issued.CopyWithPrivateKey((ECDsa)key);
    }

    /// <summary>A validated good staple for <paramref name="leaf"/>, signed by the CA.</summary>
    public OcspStaple Staple(X509Certificate2 leaf)
    {
        byte[] der = OcspResponseBuilder.For(leaf, Issuer, Now).Build();
        OcspValidationResult result = OcspResponseValidator.Validate(der, leaf, Issuer, Now);
        return result.Staple ?? throw new InvalidOperationException($"Benchmark staple rejected: {result.Failure} {result.Message}");
    }

    public void Dispose()
    {
        _leafKey.Dispose();
        Issuer.Dispose();
    }
}
