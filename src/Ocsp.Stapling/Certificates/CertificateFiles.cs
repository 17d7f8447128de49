using System.Security.Cryptography.X509Certificates;

namespace Ocsp.Stapling.Internal;

/// <summary>Loads certificates from PEM (one or a chain) or DER files.</summary>
internal static class CertificateFiles
{
    public static X509Certificate2Collection Load(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        var collection = new X509Certificate2Collection();
        if (bytes.AsSpan().IndexOf("-----BEGIN"u8) >= 0)
        {
            collection.ImportFromPemFile(path);
        }
        else
        {
            collection.Add(X509CertificateLoader.LoadCertificate(bytes));
        }

        if (collection.Count == 0)
        {
            throw new InvalidOperationException($"'{path}' holds no certificate.");
        }

        return collection;
    }

    /// <summary>The leaf and its issuer: from <paramref name="issuerPath"/>, or the second certificate of a chain file.</summary>
    public static (X509Certificate2 Certificate, X509Certificate2 Issuer) LoadPair(string path, string? issuerPath)
    {
        X509Certificate2Collection chain = Load(path);
        X509Certificate2 leaf = chain[0];
        X509Certificate2? issuer = issuerPath is not null ? Load(issuerPath)[0] : chain.Count > 1 ? chain[1] : null;
        if (issuer is null)
        {
            throw new InvalidOperationException($"'{path}' holds only the certificate; give its issuer (a chain file or an issuer path).");
        }

        CertificateNames.EnsureIssuedBy(leaf, issuer, nameof(issuerPath));

        return (leaf, issuer);
    }
}
