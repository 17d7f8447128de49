using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Ocsp.Stapling.Internal;

namespace Ocsp.Stapling.AspNetCore.Internal;

/// <summary>
/// The client-certificate check of a stapled Kestrel endpoint: the chain (to the endpoint's client CAs, or the system's
/// roots; issuer downloads off, in the TLS layer's own build too: <see cref="ChainPolicy"/>), then, when the endpoint has a
/// revocation policy, the OCSP checks of <see cref="OcspClientCertificateValidator.Check"/>. Refusals are logged once per
/// certificate and reason (events 163 and 160).
/// </summary>
internal static class KestrelClientCertificates
{
    /// <summary>The policy the TLS layer builds client chains with on this endpoint (set on each connection's options).</summary>
    public static System.Security.Cryptography.X509Certificates.X509ChainPolicy ChainPolicy(OcspStaplingHttpsOptions options) =>
        ClientChains.Policy(options.ClientCertificates.Authorities.Count > 0 ? options.ClientCertificates.Authorities : null);

    public static RemoteCertificateValidationCallback Callback(IServiceProvider services, OcspStaplingHttpsOptions options)
    {
        ClientCertificateMode mode = options.ClientCertificates.Mode;
        X509Certificate2Collection? authorities = options.ClientCertificates.Authorities.Count > 0 ? [.. options.ClientCertificates.Authorities] : null;
        OcspClientCertificatePolicy? policy = options.ClientCertificates.Revocation;
        ClientCertificateValidator validator = services.GetService<ClientCertificateValidator>()
            ?? throw new InvalidOperationException("Client certificates on a stapled endpoint need the OCSP provider: call services.AddOcspStapling() when configuring services.");
        return (_, certificate, chain, errors) => certificate is null
            ? mode == ClientCertificateMode.AllowCertificate
            : OcspClientCertificateValidation.ValidateChainAndRevocation(
                validator,
                policy,
                authorities,
                certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()),
                chain,
                errors) is not { IsAccepted: false };
    }
}
