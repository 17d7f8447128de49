using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Ocsp.Stapling.Internal;

namespace Ocsp.Stapling;

/// <summary>OCSP facts read from a certificate: its responder URLs and whether it demands stapling.</summary>
public static class OcspCertificateExtensions
{
    /// <summary>The OID of the TLS Feature extension (RFC 7633).</summary>
    internal const string TlsFeatureOid = "1.3.6.1.5.5.7.1.24";

    /// <summary>The TLS extension number of <c>status_request</c> (RFC 6066), the feature "OCSP must-staple" asks for.</summary>
    internal const int StatusRequestFeature = 5;

    /// <summary>
    /// Returns whether the certificate carries the TLS Feature extension with <c>status_request</c> ("OCSP must-staple"):
    /// clients that honour it refuse a handshake without a valid staple.
    /// </summary>
    /// <param name="certificate">The certificate.</param>
    /// <returns><see langword="true"/> for a must-staple certificate. A malformed extension counts as must-staple: failing open would be worse.</returns>
    public static bool IsMustStaple(this X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        X509Extension? extension = certificate.Extensions[TlsFeatureOid];
        if (extension is null)
        {
            return false;
        }

        try
        {
            // Features ::= SEQUENCE OF INTEGER
            var reader = new AsnReader(extension.RawData, AsnEncodingRules.DER);
            AsnReader features = reader.ReadSequence();
            while (features.HasData)
            {
                if (features.TryReadInt32(out int feature) && feature == StatusRequestFeature)
                {
                    return true;
                }
            }

            return false;
        }
        catch (AsnContentException)
        {
            return true;
        }
    }

    /// <summary>Returns the HTTP and HTTPS OCSP responder URLs of the certificate's Authority Information Access extension, in order.</summary>
    /// <param name="certificate">The certificate.</param>
    /// <returns>The URLs; empty when there is no AIA extension, no OCSP access method, or it is malformed.</returns>
    public static IReadOnlyList<Uri> GetOcspResponderUris(this X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var result = new List<Uri>();
        foreach (X509Extension extension in certificate.Extensions)
        {
            if (extension is not X509AuthorityInformationAccessExtension aia)
            {
                continue;
            }

            try
            {
                foreach (string url in aia.EnumerateOcspUris())
                {
                    if (Responders.TryParse(url, out Uri? uri))
                    {
                        result.Add(uri);
                    }
                }
            }
            catch (CryptographicException)
            {
                // A malformed AIA extension gives no usable responder; the caller reports "no OCSP URL".
            }
        }

        return result;
    }
}
