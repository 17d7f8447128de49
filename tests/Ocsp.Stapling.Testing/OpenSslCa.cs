using System.Security.Cryptography.X509Certificates;

namespace Ocsp.Stapling.Testing;

/// <summary>
/// A CA kept by <c>openssl ca</c> in a directory of its own, as a small private CA is run: a CA certificate that may sign
/// CRLs, client certificates with a CRL distribution point (and no OCSP URL), revocations, and CRLs made by
/// <c>openssl ca -gencrl</c> (DER). On the machine's clock.
/// </summary>
public sealed class OpenSslCa
{
    private readonly string _config;

    private OpenSslCa(string directory, Uri crlUrl)
    {
        Directory = directory;
        CrlUrl = crlUrl;
        _config = Path.Combine(directory, "ca.cnf");
    }

    public string Directory { get; }

    /// <summary>Gets the URL its certificates name as their CRL distribution point.</summary>
    public Uri CrlUrl { get; }

    /// <summary>Gets the CA certificate's PEM file.</summary>
    public string CertificateFile => Path.Combine(Directory, "ca.pem");

    public X509Certificate2 Certificate => X509CertificateLoader.LoadCertificateFromFile(CertificateFile);

    /// <summary>Makes the CA in <paramref name="directory"/> (created), its certificates pointing at <paramref name="crlUrl"/>.</summary>
    public static async Task<OpenSslCa> CreateAsync(string directory, Uri crlUrl, string name = "Test CRL CA")
    {
        System.IO.Directory.CreateDirectory(Path.Combine(directory, "newcerts"));
        var ca = new OpenSslCa(directory, crlUrl);
        await File.WriteAllTextAsync(Path.Combine(directory, "index.txt"), "");
        await File.WriteAllTextAsync(Path.Combine(directory, "serial"), "1000\n");
        await File.WriteAllTextAsync(Path.Combine(directory, "crlnumber"), "01\n");
        await File.WriteAllTextAsync(ca._config, $"""
            [ ca ]
            default_ca = ca_default
            [ ca_default ]
            dir = {directory}
            database = $dir/index.txt
            new_certs_dir = $dir/newcerts
            serial = $dir/serial
            crlnumber = $dir/crlnumber
            certificate = $dir/ca.pem
            private_key = $dir/ca.key
            default_md = sha256
            default_days = 30
            default_crl_days = 1
            policy = policy_any
            unique_subject = no
            [ policy_any ]
            commonName = supplied
            [ req ]
            distinguished_name = dn
            [ dn ]
            [ ca_ext ]
            basicConstraints = critical, CA:TRUE
            keyUsage = critical, keyCertSign, cRLSign
            subjectKeyIdentifier = hash
            [ client_ext ]
            basicConstraints = CA:FALSE
            keyUsage = critical, digitalSignature
            extendedKeyUsage = clientAuth
            subjectKeyIdentifier = hash
            authorityKeyIdentifier = keyid
            crlDistributionPoints = URI:{crlUrl.AbsoluteUri}
            [ crl_ext ]
            authorityKeyIdentifier = keyid:always

            """);
        await ca.RunAsync("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", Path.Combine(directory, "ca.key"), "-out", ca.CertificateFile,
            "-subj", $"/CN={name}", "-days", "365", "-config", ca._config, "-extensions", "ca_ext");
        return ca;
    }

    /// <summary>Issues a client certificate (ECDSA P-256) named <paramref name="name"/>: <c>NAME.pem</c> and <c>NAME.key</c> in the directory.</summary>
    public async Task<X509Certificate2> IssueClientAsync(string name)
    {
        string key = Path.Combine(Directory, name + ".key");
        string csr = Path.Combine(Directory, name + ".csr");
        string pem = Path.Combine(Directory, name + ".pem");
        await RunAsync("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", csr, "-subj", $"/CN={name}", "-config", _config);
        await RunAsync("ca", "-batch", "-config", _config, "-extensions", "client_ext", "-notext", "-in", csr, "-out", pem);
        return X509Certificate2.CreateFromPemFile(pem, key);
    }

    /// <summary>Revokes the certificate issued as <paramref name="name"/> (reason keyCompromise).</summary>
    public Task RevokeAsync(string name) =>
        RunAsync("ca", "-batch", "-config", _config, "-revoke", Path.Combine(Directory, name + ".pem"), "-crl_reason", "keyCompromise");

    /// <summary>A CRL of the revocations so far, by <c>openssl ca -gencrl</c> (its number counts up), in DER.</summary>
    public async Task<byte[]> GenerateCrlAsync()
    {
        string pem = Path.Combine(Directory, "ca.crl.pem");
        string der = Path.Combine(Directory, "ca.crl");
        await RunAsync("ca", "-batch", "-config", _config, "-gencrl", "-crlexts", "crl_ext", "-out", pem);
        await RunAsync("crl", "-in", pem, "-outform", "DER", "-out", der);
        return await File.ReadAllBytesAsync(der);
    }

    private async Task RunAsync(params string[] arguments)
    {
        ProgramResult result = await ExternalProgram.RunAsync("openssl", arguments, Directory, TimeSpan.FromSeconds(60));
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"openssl {string.Join(' ', arguments)}: {result}");
        }
    }
}
