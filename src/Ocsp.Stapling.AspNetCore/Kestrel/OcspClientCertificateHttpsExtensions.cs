using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Ocsp.Stapling;

namespace Microsoft.AspNetCore.Hosting;

/// <summary>
/// OCSP revocation checks of client certificates on a Kestrel endpoint configured with Kestrel's own <c>UseHttps</c>
/// (for endpoints of <c>UseHttpsWithOcspStapling</c>, set <c>OcspStaplingHttpsOptions.ClientCertificates.Revocation</c>).
/// </summary>
public static class OcspClientCertificateHttpsExtensions
{
    /// <summary>
    /// Requires a client certificate that chains to <paramref name="clientCertificateAuthorities"/> (or the system's roots)
    /// and passes the OCSP checks of <paramref name="validator"/> under <paramref name="policy"/>: sets
    /// <see cref="HttpsConnectionAdapterOptions.ClientCertificateMode"/> to <see cref="ClientCertificateMode.RequireCertificate"/>
    /// (unless already <see cref="ClientCertificateMode.AllowCertificate"/>), turns the runtime's own revocation fetch off,
    /// makes the TLS layer build client chains with issuer downloads off (through <see cref="HttpsConnectionAdapterOptions.OnAuthenticate"/>,
    /// after the one already set) and sets <see cref="HttpsConnectionAdapterOptions.ClientCertificateValidation"/>. Kestrel's
    /// callback is synchronous: a certificate never seen is decided by the failure mode while its responder is asked in
    /// the background (<see cref="OcspClientCertificateValidator.Check"/>).
    /// </summary>
    /// <param name="httpsOptions">The endpoint's HTTPS options.</param>
    /// <param name="validator">The validator (<c>listenOptions.ApplicationServices.GetRequiredService&lt;OcspClientCertificateValidator&gt;()</c>).</param>
    /// <param name="policy">The endpoint's policy.</param>
    /// <param name="clientCertificateAuthorities">The CAs client certificates must chain to (the root and the intermediates clients may not send); <see langword="null"/> for the system's roots.</param>
    /// <returns>The options.</returns>
    public static HttpsConnectionAdapterOptions CheckClientCertificateRevocation(
        this HttpsConnectionAdapterOptions httpsOptions,
        OcspClientCertificateValidator validator,
        OcspClientCertificatePolicy policy,
        X509Certificate2Collection? clientCertificateAuthorities = null)
    {
        ArgumentNullException.ThrowIfNull(httpsOptions);
        ArgumentNullException.ThrowIfNull(validator);
        ArgumentNullException.ThrowIfNull(policy);
        X509Certificate2Collection? authorities = clientCertificateAuthorities is null ? null : [.. clientCertificateAuthorities];
        if (httpsOptions.ClientCertificateMode != ClientCertificateMode.AllowCertificate)
        {
            httpsOptions.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
        }

        httpsOptions.CheckCertificateRevocation = false;
        var before = httpsOptions.OnAuthenticate;
        httpsOptions.OnAuthenticate = (connection, ssl) =>
        {
            before?.Invoke(connection, ssl);
            ssl.CertificateChainPolicy = OcspClientCertificateValidation.CreateChainPolicy(authorities);
        };
        httpsOptions.ClientCertificateValidation = (certificate, chain, errors) =>
            OcspClientCertificateValidation.Validate(validator, policy, authorities, certificate, chain, errors).IsAccepted;
        return httpsOptions;
    }
}
