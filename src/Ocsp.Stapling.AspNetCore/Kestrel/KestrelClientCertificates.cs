using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Ocsp.Stapling.AspNetCore.Internal;

/// <summary>
/// The client-certificate check of a Kestrel endpoint: the chain (to the endpoint's client CAs, or the system's trust),
/// then, when the endpoint has a revocation policy, the OCSP check of <see cref="IOcspClientCertificateValidator.Check"/>.
/// Each rejection is logged at Debug with its reason (the validator logs each certificate's decision once, at Warning).
/// </summary>
internal static class KestrelClientCertificates
{
    public static RemoteCertificateValidationCallback Callback(IServiceProvider services, OcspStaplingHttpsOptions options)
    {
        ClientCertificateMode mode = options.ClientCertificateMode;
        X509Certificate2Collection? authorities = options.ClientCertificateAuthorities.Count > 0 ? [.. options.ClientCertificateAuthorities] : null;
        OcspClientCertificatePolicy? policy = options.ClientCertificateRevocation;
        IOcspClientCertificateValidator? validator = policy is null ? null : services.GetRequiredService<IOcspClientCertificateValidator>();
        ILogger logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Ocsp.Stapling.ClientCertificates");
        return (_, certificate, chain, errors) =>
        {
            if (certificate is null)
            {
                return mode == ClientCertificateMode.AllowCertificate;
            }

            var client = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
            string? reason;
            try
            {
                if (OcspClientCertificateValidation.ValidateChainAndRevocation(validator, policy, authorities, client, chain, errors, out reason))
                {
                    return true;
                }
            }
#pragma warning disable CA1031 // A check that fails refuses the handshake with its reason; it never escapes into the TLS layer.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                reason = $"client certificate '{client.Subject}' could not be checked: {ex.GetType().Name}: {ex.Message}";
            }

            Log.ClientCertificateRejected(logger, reason ?? "rejected");
            return false;
        };
    }
}
