using System.ComponentModel.DataAnnotations;
namespace Ocsp.Stapling;

/// <summary>A certificate to keep stapled, named by file paths (PEM or DER).</summary>
public sealed class OcspCertificateFile
{
    /// <summary>Gets or sets the path of the certificate, or of a PEM chain whose first certificate is the leaf and second its issuer.</summary>
    [Required]
    public string Path { get; set; } = string.Empty;

    /// <summary>Gets or sets the path of the issuer certificate, when <see cref="Path"/> holds only the leaf.</summary>
    public string? IssuerPath { get; set; }
}
