using System.Security.Cryptography.X509Certificates;

namespace Ocsp.Stapling.Internal;

/// <summary>How a certificate is named and matched with its issuer, the same way everywhere.</summary>
internal static class CertificateNames
{
    /// <summary>True when <paramref name="issuer"/>'s subject is <paramref name="certificate"/>'s issuer name.</summary>
    public static bool IsIssuedBy(X509Certificate2 certificate, X509Certificate2 issuer) =>
        certificate.IssuerName.RawData.AsSpan().SequenceEqual(issuer.SubjectName.RawData)
        || string.Equals(certificate.IssuerName.Name, issuer.SubjectName.Name, StringComparison.Ordinal);

    /// <summary>Throws the one caller-error message for a wrong issuer.</summary>
    public static void EnsureIssuedBy(X509Certificate2 certificate, X509Certificate2 issuer, string paramName)
    {
        if (!IsIssuedBy(certificate, issuer))
        {
            throw new ArgumentException(
                $"'{CertificateNames.Subject(issuer)}' is not the issuer of the certificate '{CertificateNames.Subject(certificate)}' (its issuer is '{CertificateNames.Issuer(certificate)}').", paramName);
        }
    }

    /// <summary>
    /// How logs, messages and pages name a certificate: subject and serial number, never more (no key, no whole
    /// certificate). For example <c>'CN=www.example.com' (serial 04A1…)</c>.
    /// </summary>
    public static string DisplayName(X509Certificate2 certificate) => $"'{Subject(certificate)}' (serial {certificate.SerialNumber})";

    /// <summary>The certificate's subject as a message may carry it: whoever made the certificate chose it (a client, a responder), so escaped and capped (<see cref="LogText"/>).</summary>
    public static string Subject(X509Certificate2 certificate) => LogText.Quote(certificate.Subject);

    /// <summary>The certificate's issuer name as a message may carry it, escaped and capped.</summary>
    public static string Issuer(X509Certificate2 certificate) => LogText.Quote(certificate.Issuer);
}
