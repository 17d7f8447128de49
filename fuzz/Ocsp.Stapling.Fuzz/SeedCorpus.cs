using System.Security.Cryptography.X509Certificates;
using System.Text;
using Ocsp.Stapling.Internal;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Fuzz;

/// <summary>
/// The seed corpus, built in code: a test PKI (written to <c>pki/</c>, so that the targets validate against it) and, per
/// target, small valid inputs of each shape the parser knows, for the fuzzer to mutate.
/// </summary>
public static class SeedCorpus
{
    public static void Write(string directory)
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        now = now.AddTicks(-(now.UtcTicks % TimeSpan.TicksPerSecond));
        using TestPki pki = TestPki.Create(new Uri("http://127.0.0.1:9/ocsp"), now);
        X509Certificate2 leaf = pki.IssueLeaf("fuzz.test", new Uri("http://127.0.0.1:9/ocsp"));
        string pkiDirectory = Path.Combine(directory, "pki");
        Directory.CreateDirectory(pkiDirectory);
        File.WriteAllText(Path.Combine(pkiDirectory, "leaf.pem"), TestPki.ToPem(leaf));
        File.WriteAllText(Path.Combine(pkiDirectory, "issuer.pem"), TestPki.ToPem(pki.Intermediate));
        File.WriteAllText(Path.Combine(pkiDirectory, "now.txt"), now.ToString("O", System.Globalization.CultureInfo.InvariantCulture));

        byte[] good = OcspResponseBuilder.For(leaf, pki.Intermediate, now).Build();
        OcspResponseBuilder byResponder = OcspResponseBuilder.For(leaf, pki.Intermediate, now);
        byResponder.Signer = pki.DelegatedResponder;
        byResponder.IncludeSignerCertificate = true;
        byte[] delegated = byResponder.Build();
        OcspResponseBuilder revocation = OcspResponseBuilder.For(leaf, pki.Intermediate, now);
        revocation.Status = OcspCertificateStatus.Revoked;
        revocation.RevocationTime = now.AddDays(-1);
        revocation.RevocationReason = OcspRevocationReason.KeyCompromise;
        byte[] revoked = revocation.Build();
        byte[] tryLater = [0x30, 0x03, 0x0A, 0x01, 0x03];
        Seed(directory, "response", ("good", good), ("delegated", delegated), ("revoked", revoked), ("trylater", tryLater));

        byte[] sha1 = OcspRequest.Create(leaf, pki.Intermediate).Encoded.ToArray();
        byte[] sha256 = OcspRequest.Create(leaf, pki.Intermediate, new OcspRequestOptions { HashAlgorithm = OcspHashAlgorithm.Sha256 }).Encoded.ToArray();
        byte[] nonce = OcspRequest.Create(leaf, pki.Intermediate, new OcspRequestOptions { IncludeNonce = true }).Encoded.ToArray();
        Seed(directory, "request", ("sha1", sha1), ("sha256", sha256), ("nonce", nonce));

        Seed(
            directory,
            "get-path",
            ("escaped", Encoding.ASCII.GetBytes("/" + OcspHttpEncoding.EncodeForGet(sha1))),
            ("raw", Encoding.ASCII.GetBytes(Convert.ToBase64String(nonce))),
            ("base64url", Encoding.ASCII.GetBytes(Convert.ToBase64String(sha256).Replace('+', '-').Replace('/', '_').TrimEnd('='))));

        Seed(directory, "der", ("response", good), ("request", nonce), ("certificate", leaf.RawData));

        OcspStaple staple = OcspResponseValidator.Validate(good, leaf, pki.Intermediate, now).Staple
            ?? throw new InvalidOperationException("The seed response does not validate.");
        Seed(directory, "store-entry", ("entry", StapleCacheEntry.Serialize(staple)), ("delegated", StapleCacheEntry.Serialize(
            OcspResponseValidator.Validate(delegated, leaf, pki.Intermediate, now).Staple!)));

        Seed(
            directory,
            "certificate-file",
            ("pem", Encoding.ASCII.GetBytes(TestPki.ToPem(leaf))),
            ("chain", Encoding.ASCII.GetBytes(TestPki.ToPem(leaf) + TestPki.ToPem(pki.Intermediate))),
            ("pem-with-key", Encoding.ASCII.GetBytes(TestPki.ToPem(leaf) + TestPki.PrivateKeyPem(leaf))),
            ("der", leaf.RawData),
            ("pfx", leaf.Export(X509ContentType.Pkcs12)));

        Seed(
            directory,
            "crl",
            ("listing", TestCrls.Build(pki.Intermediate, 7, now.AddHours(-1), now.AddDays(1), leaf)),
            ("empty", TestCrls.Build(pki.Intermediate, 1, now.AddHours(-1), now.AddDays(1))),
            ("scoped", TestCrls.Custom(
                pki.Intermediate, now.AddHours(-1), now.AddDays(1), [TestCrls.Number(3), TestCrls.IssuingDistributionPoint(new Uri("http://crl.fuzz.invalid/ca.crl"), onlyUsers: true)], leaf)),
            ("delta", TestCrls.Custom(pki.Intermediate, now.AddHours(-1), now.AddDays(1), [TestCrls.Number(4), ("2.5.29.27", true, [0x02, 0x01, 0x03])])));

        Seed(
            directory,
            "renew-config",
            ("full", Encoding.UTF8.GetBytes("""
                { "minimum-validity": "3d", "minimum-validity-percentage": 42.8, "backup": true,
                  // a comment
                  "certificates": [ { "cert": "site.pem", "issuer": "ca.pem", "output": "site.pem.ocsp", "url": "http://ocsp.example/", "haproxy-socket": "/run/haproxy.sock" },
                                    { "cert": "b.pem", "output": "b.ocsp", }, ] }
                """)),
            ("minimal", Encoding.UTF8.GetBytes("""{ "certificates": [ { "cert": "a.pem", "output": "a.ocsp" } ] }""")),
            ("crls", Encoding.UTF8.GetBytes("""{ "crls": [ { "ca": "ca.pem", "url": "http://ca.example/ca.crl", "output": "ca.crl.pem", "haproxy-socket": "127.0.0.1:9999" } ] }""")));
    }

    private static void Seed(string directory, string target, params (string Name, byte[] Content)[] seeds)
    {
        string folder = Path.Combine(directory, target);
        Directory.CreateDirectory(folder);
        foreach ((string name, byte[] content) in seeds)
        {
            File.WriteAllBytes(Path.Combine(folder, name), content);
        }
    }
}
