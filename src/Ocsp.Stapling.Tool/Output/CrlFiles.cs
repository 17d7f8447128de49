using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Ocsp.Stapling.Internal;

namespace Ocsp.Stapling.Tool;

/// <summary>CRL files as nginx (<c>ssl_crl</c>) and HAProxy (<c>crl-file</c>) read them: PEM (<c>X509 CRL</c>).</summary>
internal static class CrlFiles
{
    /// <summary>
    /// The CRL installed at <paramref name="path"/> (PEM or DER) when it is one of <paramref name="ca"/> that validates
    /// (its signature, times and scope for <paramref name="url"/>); <see langword="null"/> when missing or not (then any
    /// valid CRL replaces it).
    /// </summary>
    public static ParsedCrl? Read(string path, X509Certificate2 ca, Uri url)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            byte[] bytes = File.ReadAllBytes(path);
            string text = Encoding.ASCII.GetString(bytes);
            byte[] der = text.Contains("-----BEGIN X509 CRL-----", StringComparison.Ordinal)
                ? PemEncoding.TryFind(text, out PemFields fields) ? Convert.FromBase64String(text[fields.Base64Data]) : []
                : bytes;
            ParsedCrl crl = ParsedCrl.Parse(der);
            return CrlValidation.Check(crl, ca, url, TimeProvider.System.GetUtcNow(), TimeSpan.FromMinutes(5), held: null) is null ? crl : null;
        }
        catch (Exception ex) when (ex is OcspFormatException or FormatException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Whether <paramref name="fetched"/> is newer than <paramref name="installed"/>: a higher CRL number, or without numbers a later thisUpdate.</summary>
    public static bool IsNewer(ParsedCrl fetched, ParsedCrl installed) =>
        fetched.Number is { } number && installed.Number is { } held ? number > held : fetched.ThisUpdate > installed.ThisUpdate;

    public static string ToPem(byte[] der) => new string(PemEncoding.Write("X509 CRL", der)) + "\n";

    public static string Describe(ParsedCrl crl) => string.Create(
        CultureInfo.InvariantCulture,
        $"CRL number {crl.Number?.ToString(CultureInfo.InvariantCulture) ?? "none"}, {crl.Revoked.Count} entries, thisUpdate {crl.ThisUpdate:u}, nextUpdate {crl.NextUpdate:u}");
}
