using System.Security.Cryptography.X509Certificates;

namespace Ocsp.Stapling.Internal;

/// <summary>Finds a server certificate's issuer, the CA its OCSP responses are about, in the chain given or the certificate store.</summary>
internal static class IssuerDiscovery
{
    /// <summary>The issuer from <paramref name="chain"/> or the store; <see langword="null"/> with the reason when there is none.</summary>
    public static X509Certificate2? Find(X509Certificate2 certificate, X509Certificate2Collection? chain, out string? problem)
    {
        using var builder = new X509Chain();
        builder.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        builder.ChainPolicy.VerificationFlags = X509VerificationFlags.AllFlags;
        builder.ChainPolicy.DisableCertificateDownloads = true;
        if (chain is not null)
        {
            builder.ChainPolicy.ExtraStore.AddRange(chain);
        }

        builder.Build(certificate);
        X509Certificate2? issuer = null;
        for (int i = 0; i < builder.ChainElements.Count; i++)
        {
            X509Certificate2 element = builder.ChainElements[i].Certificate;
            if (i == 1 && CertificateNames.IsIssuedBy(certificate, element))
            {
                issuer = element;
            }
            else
            {
                element.Dispose();
            }
        }

        problem = issuer is not null
            ? null
            : certificate.SubjectName.RawData.AsSpan().SequenceEqual(certificate.IssuerName.RawData)
                ? "it is self-signed, so there is no issuer to ask about it"
                : $"its issuer '{CertificateNames.Issuer(certificate)}' is neither in the chain given nor in the certificate store: give the issuing CA's certificate "
                    + "(the intermediate) with it, as a fullchain.pem holding the certificate followed by the intermediate, the chain file argument "
                    + "(chainPath, chain.pem), a PFX that contains it, or the chain collection";
        return issuer;
    }
}
