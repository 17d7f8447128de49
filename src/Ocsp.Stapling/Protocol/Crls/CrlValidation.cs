using System.Security.Cryptography.X509Certificates;

namespace Ocsp.Stapling.Internal;

/// <summary>
/// Whether a CRL may decide for the certificates of an issuer (RFC 5280 §6.3.3, for a complete, direct CRL): issued and
/// signed by that issuer (its key allowed to sign CRLs), no critical extension it does not understand, not a delta or
/// indirect CRL or one for some reasons only, for the distribution point it came from, thisUpdate not in the future
/// beyond the clock skew (OCSP's rule), nextUpdate present and not passed, and never older than the CRL held (a lower CRL
/// number or an earlier thisUpdate: a replayed CRL).
/// </summary>
internal static class CrlValidation
{
    /// <summary><see langword="null"/> when <paramref name="crl"/> may be used; otherwise why not, in words.</summary>
    public static string? Check(ParsedCrl crl, X509Certificate2 issuer, Uri source, DateTimeOffset now, TimeSpan maxClockSkew, ParsedCrl? held)
    {
        if (!crl.Issuer.Span.SequenceEqual(issuer.SubjectName.RawData))
        {
            return $"it is issued by '{IssuerName(crl)}', not by the certificate's issuer '{issuer.Subject}'";
        }

        if (issuer.Extensions["2.5.29.15"] is X509KeyUsageExtension usage && (usage.KeyUsages & X509KeyUsageFlags.CrlSign) == 0)
        {
            return $"the issuer '{issuer.Subject}' may not sign CRLs (its key usage lacks cRLSign)";
        }

        if (!OcspSignatures.VerifyCrl(crl.Encoded, crl.Signed, crl.SignatureAlgorithm, crl.SignatureParameters, crl.Signature, issuer))
        {
            return $"its signature does not verify with the key of '{issuer.Subject}'";
        }

        if ((crl.Unsupported ?? crl.Scope?.Unsupported) is { } unsupported)
        {
            return unsupported;
        }

        if (crl.Scope is { HasName: true } scope && !scope.Urls.Any(u => Uri.TryCreate(u, UriKind.Absolute, out Uri? url) && url == source))
        {
            return scope.Urls.Count == 0
                ? "its issuing distribution point names no URL"
                : $"its issuing distribution point is {string.Join(", ", scope.Urls)}, not {source}";
        }

        if (crl.ThisUpdate > now + maxClockSkew)
        {
            return $"its thisUpdate {crl.ThisUpdate:u} is more than {maxClockSkew} after now ({now:u})";
        }

        if (crl.NextUpdate is not { } nextUpdate)
        {
            return "it has no nextUpdate (RFC 5280 §5.1.2.5 requires one): it would never be known stale";
        }

        if (nextUpdate <= now)
        {
            return $"its nextUpdate {nextUpdate:u} has passed (now {now:u})";
        }

        if (held is not null)
        {
            if (crl.Number is { } number && held.Number is { } heldNumber && number < heldNumber)
            {
                return $"its CRL number {number} is lower than the held CRL's {heldNumber} (an older CRL)";
            }

            if (crl.ThisUpdate < held.ThisUpdate)
            {
                return $"its thisUpdate {crl.ThisUpdate:u} is before the held CRL's {held.ThisUpdate:u} (an older CRL)";
            }
        }

        return null;
    }

    /// <summary>The CRL's issuer as a distinguished name, or a placeholder when the name cannot be read (a CRL is outside input).</summary>
    public static string IssuerName(ParsedCrl crl)
    {
        try
        {
            return new X500DistinguishedName(crl.Issuer.Span).Name;
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return "(an unreadable name)";
        }
    }

    /// <summary>Whether <paramref name="crl"/>'s scope covers <paramref name="certificate"/> (only end entities, only CAs); otherwise why not.</summary>
    public static string? Covers(ParsedCrl crl, X509Certificate2 certificate)
    {
        bool isCa = certificate.Extensions["2.5.29.19"] is X509BasicConstraintsExtension { CertificateAuthority: true };
        return crl.Scope switch
        {
            { OnlyEndEntities: true } when isCa => "its CRL covers only end-entity certificates, and this is a CA",
            { OnlyCas: true } when !isCa => "its CRL covers only CA certificates",
            _ => null,
        };
    }
}
