using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Ocsp.Stapling.Internal;

namespace Ocsp.Stapling.Tool;

/// <summary>A certificate and its issuer, loaded from files with errors the user can act on.</summary>
internal sealed record CertificatePair(X509Certificate2 Certificate, X509Certificate2 Issuer)
{
    public string Name => CertificateNames.DisplayName(Certificate);

    /// <summary>The <c>--cert</c> files, each with the <c>--issuer</c> at its position (or none, for chain files); exit 64 when the counts differ.</summary>
    public static CertificatePair[] LoadAll(string[] certificatePaths, string[] issuerPaths)
    {
        if (issuerPaths.Length > 0 && issuerPaths.Length != certificatePaths.Length)
        {
            throw new ToolException(
                ExitCodes.Usage, $"Give one --issuer per --cert ({certificatePaths.Length} --cert, {issuerPaths.Length} --issuer), or none with chain files.");
        }

        return [.. certificatePaths.Select((c, i) => Load(c, issuerPaths.Length > 0 ? issuerPaths[i] : null))];
    }

    /// <summary>The CA certificates (basicConstraints CA:TRUE) of a <c>--ca</c> file, PEM or DER, a bundle giving several (exit 66 when missing, 65 when unreadable or holding no CA).</summary>
    public static X509Certificate2[] LoadAuthorities(string file)
    {
        if (!File.Exists(file))
        {
            throw new ToolException(ExitCodes.NoInput, $"--ca '{file}': no such file.");
        }

        X509Certificate2Collection certificates;
        try
        {
            certificates = OcspServerCertificateFiles.LoadCertificates(file);
        }
        catch (InvalidOperationException ex)
        {
            throw new ToolException(ExitCodes.BadInput, $"--ca '{file}': {ex.Message}");
        }

        X509Certificate2[] authorities = [.. certificates.Where(c => c.Extensions.OfType<X509BasicConstraintsExtension>().Any(b => b.CertificateAuthority))];
        return authorities.Length > 0
            ? authorities
            : throw new ToolException(ExitCodes.BadInput, $"--ca '{file}' holds no CA certificate (basicConstraints CA:TRUE): give the issuer of the certificates, not a server certificate.");
    }

    public static CertificatePair Load(string certificatePath, string? issuerPath)
    {
        foreach (string? path in new[] { certificatePath, issuerPath })
        {
            if (path is not null && !File.Exists(path))
            {
                throw new ToolException(ExitCodes.NoInput, $"'{path}': no such file.");
            }
        }

        try
        {
            (X509Certificate2 certificate, X509Certificate2 issuer) = OcspServerCertificateFiles.LoadWithIssuer(certificatePath, issuerPath);
            return new CertificatePair(certificate, issuer);
        }
        catch (Exception ex) when (ex is CryptographicException or InvalidOperationException or ArgumentException or IOException or UnauthorizedAccessException)
        {
            // The library's words name its parameters ("a chain file or an issuer path"); the tool's name its options.
            string message = ex.Message.Replace("give its issuer (a chain file or an issuer path).", "give its issuer with --issuer, or a chain file (certificate then issuer) as --cert.", StringComparison.Ordinal);
            throw new ToolException(ExitCodes.BadInput, $"Cannot use '{certificatePath}'{(issuerPath is null ? "" : $" with issuer '{issuerPath}'")}: {message}");
        }
    }
}
