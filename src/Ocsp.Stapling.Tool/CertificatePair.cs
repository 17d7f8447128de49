using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Ocsp.Stapling.Tool;

/// <summary>A certificate and its issuer, loaded from files with errors the user can act on.</summary>
internal sealed record CertificatePair(X509Certificate2 Certificate, X509Certificate2 Issuer)
{
    public string Name => Certificate.GetDisplayName();

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
            throw new ToolException(ExitCodes.BadInput, $"Cannot use '{certificatePath}'{(issuerPath is null ? "" : $" with issuer '{issuerPath}'")}: {ex.Message}");
        }
    }
}
