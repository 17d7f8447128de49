using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Ocsp.Stapling.Internal;

/// <summary>
/// Client-certificate chains, built one way everywhere (the TLS layer's policy, the Kestrel and <c>SslStream</c>
/// callbacks, certificate authentication): against the configured client CAs (or the system's roots), with the clientAuth
/// purpose, the runtime's revocation fetch off (the OCSP checks replace it) and issuer downloads off — a client's
/// certificate never makes the server fetch a URL it names before its chain is verified.
/// </summary>
internal static class ClientChains
{
    private const string ClientAuthentication = "1.3.6.1.5.5.7.3.2";

    /// <summary>
    /// The chain policy for client certificates: custom root trust over <paramref name="authorities"/> (each also an extra
    /// certificate, so that intermediates listed complete chains clients send without them), or the system's roots when
    /// none; downloads off; the clientAuth purpose; <paramref name="revocation"/> (off unless asked).
    /// </summary>
    public static X509ChainPolicy Policy(X509Certificate2Collection? authorities, X509RevocationMode revocation = X509RevocationMode.NoCheck)
    {
        var policy = new X509ChainPolicy
        {
            DisableCertificateDownloads = true,
            RevocationMode = revocation,
            RevocationFlag = X509RevocationFlag.ExcludeRoot,
        };
        policy.ApplicationPolicy.Add(new Oid(ClientAuthentication));
        if (authorities is { Count: > 0 })
        {
            policy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            policy.CustomTrustStore.AddRange(authorities);
            policy.ExtraStore.AddRange(authorities);
        }

        return policy;
    }

    /// <summary>
    /// Verifies <paramref name="certificate"/>'s chain with <see cref="Policy"/>, helped by the certificates the client sent
    /// (<paramref name="presented"/>, the TLS layer's chain), and gives it leaf first, root last (the caller disposes the
    /// certificates); or, refused, why.
    /// </summary>
    public static bool TryBuild(
        X509Certificate2 certificate, X509Chain? presented, SslPolicyErrors errors, X509Certificate2Collection? authorities, out X509Certificate2[] chain, out string? reason)
    {
        chain = [];
        if ((errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
        {
            reason = "no client certificate";
            return false;
        }

        using var built = new X509Chain { ChainPolicy = Policy(authorities) };
        if (presented is not null)
        {
            foreach (X509ChainElement element in presented.ChainElements)
            {
                if (!element.Certificate.RawDataMemory.Span.SequenceEqual(certificate.RawDataMemory.Span))
                {
                    built.ChainPolicy.ExtraStore.Add(element.Certificate);
                }
            }
        }

        bool valid = built.Build(certificate);
        chain = [.. built.ChainElements.Select(e => e.Certificate)];
        if (!valid)
        {
            string statuses = string.Join(", ", built.ChainStatus.Select(s => s.Status).Distinct());
            reason = $"client certificate {CertificateNames.DisplayName(certificate)}: its chain does not reach {(authorities is { Count: > 0 } ? "a configured client CA" : "a trusted root")}: {statuses}";
            Dispose(chain);
            chain = [];
            return false;
        }

        reason = null;
        return true;
    }

    /// <summary>Disposes the certificates of a built chain (they are the chain's own copies).</summary>
    public static void Dispose(X509Certificate2[] chain)
    {
        foreach (X509Certificate2 certificate in chain)
        {
            certificate.Dispose();
        }
    }
}
