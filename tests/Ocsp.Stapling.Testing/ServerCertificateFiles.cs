using System.Security.Cryptography.X509Certificates;

namespace Ocsp.Stapling.Testing;

/// <summary>
/// A server's certificate files as ACME clients write them: <c>fullchain.pem</c> (leaf + issuer) and <c>privkey.pem</c>,
/// or a PFX; each replaced whole (written beside, then renamed over), one file at a time.
/// </summary>
public sealed class ServerCertificateFiles(string directory)
{
    public string Directory { get; } = System.IO.Directory.CreateDirectory(directory).FullName;

    public string FullChain => Path.Combine(Directory, "fullchain.pem");

    public string Key => Path.Combine(Directory, "privkey.pem");

    public string Pfx => Path.Combine(Directory, "site.pfx");

    public const string PfxPassword = "test-password";

    /// <summary>Writes both PEM files for <paramref name="leaf"/>.</summary>
    public ServerCertificateFiles WritePem(X509Certificate2 leaf, X509Certificate2 issuer)
    {
        WriteCertificate(leaf, issuer);
        WriteKey(leaf);
        return this;
    }

    /// <summary>Replaces <c>fullchain.pem</c> only (the key still being the old one: a pair caught half-written).</summary>
    public void WriteCertificate(X509Certificate2 leaf, X509Certificate2 issuer) => Replace(FullChain, TestPki.ToPem(leaf) + TestPki.ToPem(issuer));

    /// <summary>Replaces <c>privkey.pem</c> with the key of <paramref name="leaf"/>.</summary>
    public void WriteKey(X509Certificate2 leaf) => Replace(Key, TestPki.PrivateKeyPem(leaf));

    /// <summary>Replaces <c>site.pfx</c> with <paramref name="leaf"/>, its key and <paramref name="issuer"/>.</summary>
    public ServerCertificateFiles WritePfx(X509Certificate2 leaf, X509Certificate2 issuer)
    {
        byte[] pfx = new X509Certificate2Collection { leaf, X509CertificateLoader.LoadCertificate(issuer.RawData) }.Export(X509ContentType.Pkcs12, PfxPassword)!;
        string temporary = Pfx + ".new";
        File.WriteAllBytes(temporary, pfx);
        File.Move(temporary, Pfx, overwrite: true);
        return this;
    }

    private static void Replace(string path, string content)
    {
        string temporary = path + ".new";
        File.WriteAllText(temporary, content);
        File.Move(temporary, path, overwrite: true);
    }
}
