using System.Formats.Asn1;
using System.Security.Cryptography.X509Certificates;

namespace Ocsp.Stapling.Internal;

/// <summary>
/// The HTTP CRL URLs of a certificate (RFC 5280 §4.2.1.13, CRL distribution points): only distribution points for every
/// reason and signed by the certificate's issuer (no <c>reasons</c>, no <c>cRLIssuer</c>), whose CRL is a complete list
/// for it; <c>ldap:</c> and other schemes are skipped. Empty for a certificate without the extension or one that cannot
/// be read.
/// </summary>
internal static class CrlDistributionPoints
{
    private const string Oid = "2.5.29.31";

    public static IReadOnlyList<Uri> Of(X509Certificate2 certificate)
    {
        if (certificate.Extensions[Oid] is not { } extension)
        {
            return [];
        }

        try
        {
            var urls = new List<Uri>();
            AsnReader points = new AsnReader(extension.RawData, AsnEncodingRules.DER).ReadSequence();
            while (points.HasData)
            {
                AsnReader point = points.ReadSequence();
                List<string> names = [];
                bool complete = true;
                while (point.HasData)
                {
                    Asn1Tag tag = point.PeekTag();
                    if (tag.TagClass == TagClass.ContextSpecific && tag.TagValue == 0)
                    {
                        AsnReader name = point.ReadSequence(tag);
                        Asn1Tag choice = name.PeekTag();
                        if (choice.TagClass == TagClass.ContextSpecific && choice.TagValue == 0)
                        {
                            names.AddRange(GeneralNames.Uris(name.ReadSequence(choice)));
                        }
                        else
                        {
                            name.ReadEncodedValue();
                        }
                    }
                    else
                    {
                        point.ReadEncodedValue();
                        complete = false; // reasons [1] or cRLIssuer [2]
                    }
                }

                if (complete)
                {
                    foreach (string name in names)
                    {
                        if (Uri.TryCreate(name, UriKind.Absolute, out Uri? url) && url.Scheme is "http" or "https" && !urls.Contains(url))
                        {
                            urls.Add(url);
                        }
                    }
                }
            }

            return urls;
        }
        catch (AsnContentException)
        {
            return [];
        }
    }
}
