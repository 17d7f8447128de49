using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Ocsp.Stapling.Internal;

/// <summary>
/// Loads a TLS server certificate with its private key and chain from PEM files or a PFX, with errors that name the
/// file: what a server gives <see cref="OcspStaplingContexts.GetOrCreate"/>.
/// </summary>
internal static class OcspServerCertificateFiles
{
    /// <summary>PEM: the certificate file may hold the whole chain (fullchain.pem); <paramref name="chainPath"/> adds more.</summary>
    /// <param name="certificatePath">The certificate, optionally followed by its chain.</param>
    /// <param name="keyPath">The unencrypted PEM private key.</param>
    /// <param name="chainPath">More chain certificates, if any.</param>
    /// <returns>The certificate with its key, and its chain.</returns>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    /// <exception cref="InvalidOperationException">A file cannot be read as what it should hold; the message names it and says why.</exception>
    public static (X509Certificate2 Certificate, X509Certificate2Collection Chain) LoadPem(string certificatePath, string keyPath, string? chainPath)
    {
        X509Certificate2 certificate = Load(certificatePath, () => X509Certificate2.CreateFromPemFile(certificatePath, keyPath), "a PEM certificate and its PEM private key (" + keyPath + ")");
        var chain = new X509Certificate2Collection();
        Load(certificatePath, () => { chain.ImportFromPemFile(certificatePath); return chain; }, "PEM certificates");
        chain.RemoveAt(0); // the leaf itself, loaded with its key above
        if (chainPath is not null)
        {
            Load(chainPath, () => { chain.ImportFromPemFile(chainPath); return chain; }, "PEM certificates");
        }

        return (certificate, chain);
    }

    /// <summary>PFX / PKCS#12: the certificate with a private key is the server certificate, the others its chain.</summary>
    /// <param name="path">The PFX file.</param>
    /// <param name="password">Its password, if any.</param>
    /// <returns>The certificate with its key, and its chain.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidOperationException">The file cannot be read as a PFX with that password, or holds no private key.</exception>
    public static (X509Certificate2 Certificate, X509Certificate2Collection Chain) LoadPfx(string path, string? password)
    {
        X509Certificate2Collection all = Load(path, () => X509CertificateLoader.LoadPkcs12Collection(ReadBounded(path), password), "a PKCS#12 (PFX) file, with the right password");
        return Split(all, path);
    }

    /// <summary>The largest certificate file read (a PFX with a long chain is tens of kilobytes).</summary>
    public const int MaxFileSize = 1024 * 1024;

    /// <summary>
    /// The file's bytes, at most <see cref="MaxFileSize"/>. Read here rather than by <c>LoadPkcs12CollectionFromFile</c>,
    /// which sizes its buffer by the length the file's first bytes declare: found by fuzzing, a 120-byte file declaring
    /// 48 MB cost 64 MB of memory before it was refused.
    /// </summary>
    private static byte[] ReadBounded(string path)
    {
        long length = new FileInfo(path).Length;
        return length <= MaxFileSize
            ? File.ReadAllBytes(path)
            : throw new InvalidDataException($"it is {length} bytes, over the {MaxFileSize}-byte limit for a certificate file");
    }

    /// <summary>
    /// A certificate (PEM or DER, no key needed) and its issuer: from <paramref name="issuerPath"/>, or the second
    /// certificate of a PEM chain file. What servers that read response files (nginx, HAProxy) are stapled for.
    /// </summary>
    /// <param name="path">The certificate, or a PEM chain whose first certificate is the leaf and second its issuer.</param>
    /// <param name="issuerPath">The issuer file, when <paramref name="path"/> holds only the leaf.</param>
    /// <returns>The certificate and its issuer.</returns>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    /// <exception cref="InvalidOperationException">A file holds no certificate, or there is no issuer in the files.</exception>
    /// <exception cref="ArgumentException">The issuer given did not issue the certificate.</exception>
    public static (X509Certificate2 Certificate, X509Certificate2 Issuer) LoadWithIssuer(string path, string? issuerPath)
    {
        X509Certificate2Collection chain = LoadCertificates(path);
        X509Certificate2 leaf = chain[0];
        X509Certificate2? issuer = issuerPath is not null ? LoadCertificates(issuerPath)[0] : chain.Count > 1 ? chain[1] : null;
        if (issuer is null)
        {
            throw new InvalidOperationException($"'{path}' holds only the certificate; give its issuer (a chain file or an issuer path).");
        }

        CertificateNames.EnsureIssuedBy(leaf, issuer, nameof(issuerPath));
        return (leaf, issuer);
    }

    /// <summary>The first certificate with a private key, and the rest as its chain.</summary>
    /// <param name="certificates">The certificates.</param>
    /// <param name="source">Where they came from, for the error message.</param>
    /// <returns>The certificate with its key, and its chain.</returns>
    /// <exception cref="InvalidOperationException">No certificate has a private key.</exception>
    public static (X509Certificate2 Certificate, X509Certificate2Collection Chain) Split(X509Certificate2Collection certificates, string source)
    {
        X509Certificate2 certificate = certificates.FirstOrDefault(c => c.HasPrivateKey)
            ?? throw new InvalidOperationException($"{source} holds no certificate with a private key: a TLS server certificate needs one.");
        var chain = new X509Certificate2Collection();
        foreach (X509Certificate2 other in certificates)
        {
            if (!ReferenceEquals(other, certificate))
            {
                chain.Add(other);
            }
        }

        return (certificate, chain);
    }

    /// <summary>The certificates of a PEM file (one, a chain or a bundle) or of a DER file, without keys.</summary>
    /// <param name="path">The file.</param>
    /// <returns>Its certificates, in file order; at least one.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidOperationException">The file cannot be read as certificates, or holds none.</exception>
    public static X509Certificate2Collection LoadCertificates(string path)
    {
        X509Certificate2Collection collection = Load(
            path,
            () =>
            {
                byte[] bytes = ReadBounded(path);
                var certificates = new X509Certificate2Collection();
                if (bytes.AsSpan().IndexOf("-----BEGIN"u8) >= 0)
                {
                    certificates.ImportFromPemFile(path);
                }
                else
                {
                    certificates.Add(X509CertificateLoader.LoadCertificate(bytes));
                }

                return certificates;
            },
            "PEM or DER certificates");
        return collection.Count > 0 ? collection : throw new InvalidOperationException($"'{path}' holds no certificate.");
    }

    private static T Load<T>(string path, Func<T> load, string expected)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Certificate file '{path}' does not exist.", path);
        }

        try
        {
            return load();
        }
        // PlatformNotSupportedException: a key on a curve this platform's OpenSSL does not have (or a corrupted curve
        // OID, found by fuzzing: fuzz/regressions/certificate-file) is an unusable file like any other.
        catch (Exception ex) when (ex is CryptographicException or ArgumentException or IOException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            throw new InvalidOperationException($"Cannot load '{path}' as {expected}: {ex.Message}", ex);
        }
    }
}
