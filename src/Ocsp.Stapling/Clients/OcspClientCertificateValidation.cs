using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Ocsp.Stapling.Internal;

namespace Ocsp.Stapling;

/// <summary>
/// Client-certificate checks at the TLS level, for an <c>SslStream</c> server (and other synchronous callbacks): the
/// chain first — against the configured client CAs, with issuer downloads and the runtime's revocation fetch off, so a
/// client never makes the server fetch a URL of its choosing — then the revocation of every certificate below the root
/// (<see cref="OcspClientCertificateValidator.Check"/>, which never waits for a responder). Each refusal is logged once
/// per certificate and reason (category <c>Ocsp.Stapling.ClientCertificates</c>, event 163 for the chain, 160 for the
/// revocation decision).
/// </summary>
/// <remarks>
/// The trade-off of a synchronous callback: a certificate with an answer in memory or the shared store is decided by it;
/// one never seen is decided by the failure mode while its responder is asked in the background, so with
/// <see cref="OcspClientFailureMode.FailClosed"/> its first handshake fails and the client's next attempt (once the
/// responder has answered) is decided by the answer. Use certificate authentication
/// (<see cref="OcspClientCertificateValidator.CheckAsync"/>) where a first request may wait for the responder instead.
/// </remarks>
public static class OcspClientCertificateValidation
{
    /// <summary>
    /// Makes <paramref name="options"/> require a client certificate that chains to <paramref name="clientCertificateAuthorities"/>
    /// (or the system's roots) and passes the revocation checks of <paramref name="validator"/> under <paramref name="policy"/>:
    /// sets <see cref="SslServerAuthenticationOptions.ClientCertificateRequired"/>, the chain policy the TLS layer builds with
    /// (<see cref="SslServerAuthenticationOptions.CertificateChainPolicy"/>: <see cref="CreateChainPolicy"/>) and
    /// <see cref="SslServerAuthenticationOptions.RemoteCertificateValidationCallback"/>.
    /// </summary>
    /// <param name="options">The server's options (per connection, or shared).</param>
    /// <param name="validator">The validator (<c>AddOcspStapling()</c> registers it).</param>
    /// <param name="policy">The endpoint's policy.</param>
    /// <param name="clientCertificateAuthorities">
    /// The CAs client certificates must chain to: the root, with the intermediates clients may not send;
    /// <see langword="null"/> for the system's roots (clients must then send their intermediates).
    /// </param>
    /// <param name="rejected">Called with each rejection (a connection's diagnostics: <see cref="OcspClientCertificateDecision.Reason"/> and its message); may be <see langword="null"/>.</param>
    /// <returns>The options.</returns>
    public static SslServerAuthenticationOptions RequireClientCertificate(
        SslServerAuthenticationOptions options,
        OcspClientCertificateValidator validator,
        OcspClientCertificatePolicy policy,
        X509Certificate2Collection? clientCertificateAuthorities = null,
        Action<OcspClientCertificateDecision>? rejected = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(validator);
        ArgumentNullException.ThrowIfNull(policy);
        X509Certificate2Collection? authorities = clientCertificateAuthorities is null ? null : [.. clientCertificateAuthorities];
        options.ClientCertificateRequired = true;
        options.CertificateChainPolicy = CreateChainPolicy(authorities);
        options.RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
        {
            OcspClientCertificateDecision decision = Validate(validator, policy, authorities, certificate as X509Certificate2 ?? (certificate is null ? null : X509CertificateLoader.LoadCertificate(certificate.GetRawCertData())), chain, errors);
            if (!decision.IsAccepted)
            {
                rejected?.Invoke(decision);
            }

            return decision.IsAccepted;
        };
        return options;
    }

    /// <summary>
    /// The chain policy for client certificates, for servers that set <see cref="SslServerAuthenticationOptions.CertificateChainPolicy"/>
    /// themselves: custom root trust over <paramref name="clientCertificateAuthorities"/> (or the system's roots), the
    /// clientAuth purpose, issuer downloads off (<see cref="X509ChainPolicy.DisableCertificateDownloads"/>: on .NET 10 the TLS
    /// layer otherwise fetches the issuers a client certificate's AIA names), the runtime's revocation fetch off.
    /// </summary>
    /// <param name="clientCertificateAuthorities">The CAs client certificates must chain to, or <see langword="null"/> for the system's roots.</param>
    /// <returns>A new policy.</returns>
    public static X509ChainPolicy CreateChainPolicy(X509Certificate2Collection? clientCertificateAuthorities) => ClientChains.Policy(clientCertificateAuthorities);

    /// <summary>
    /// Checks a client certificate as <see cref="RequireClientCertificate"/> does: its chain (built again with
    /// <see cref="CreateChainPolicy"/>, helped by the certificates the client sent), then the revocation of its certificates.
    /// </summary>
    /// <param name="validator">The validator.</param>
    /// <param name="policy">The endpoint's policy.</param>
    /// <param name="clientCertificateAuthorities">The CAs client certificates must chain to, or <see langword="null"/> for the system's roots.</param>
    /// <param name="certificate">The client certificate (<see langword="null"/> when the client sent none: rejected).</param>
    /// <param name="chain">The chain the TLS layer built, if any (the intermediates the client sent are taken from it).</param>
    /// <param name="errors">The TLS layer's verdict.</param>
    /// <returns>
    /// The decision: the revocation check's, or a refusal before it (<see cref="OcspClientCertificateReason.NoCertificate"/>,
    /// <see cref="OcspClientCertificateReason.UntrustedChain"/>, <see cref="OcspClientCertificateReason.CheckFailed"/>).
    /// </returns>
    public static OcspClientCertificateDecision Validate(
        OcspClientCertificateValidator validator,
        OcspClientCertificatePolicy policy,
        X509Certificate2Collection? clientCertificateAuthorities,
        X509Certificate2? certificate,
        X509Chain? chain,
        SslPolicyErrors errors)
    {
        ArgumentNullException.ThrowIfNull(validator);
        ArgumentNullException.ThrowIfNull(policy);
        return ValidateChainAndRevocation(validator, policy, clientCertificateAuthorities, certificate, chain, errors)!;
    }

    /// <summary>
    /// <see cref="Validate"/>, or the chain check alone when <paramref name="policy"/> is <see langword="null"/>; a refusal
    /// before the revocation check is logged once per certificate and reason (by <paramref name="validator"/>'s log).
    /// Never throws: a check that fails refuses with its reason.
    /// </summary>
    /// <returns>The decision; <see langword="null"/> when the chain is accepted and no revocation check was asked for.</returns>
    internal static OcspClientCertificateDecision? ValidateChainAndRevocation(
        OcspClientCertificateValidator? validator,
        OcspClientCertificatePolicy? policy,
        X509Certificate2Collection? clientCertificateAuthorities,
        X509Certificate2? certificate,
        X509Chain? chain,
        SslPolicyErrors errors)
    {
        ClientCertificateRefusals? refusals = (validator as ClientCertificateValidator)?.Refusals;
        if (certificate is null)
        {
            return Refuse(refusals, null, OcspClientCertificateReason.NoCertificate, "no client certificate");
        }

        X509Certificate2[] verified = [];
        try
        {
            if (!ClientChains.TryBuild(certificate, chain, errors, clientCertificateAuthorities, out verified, out string? reason))
            {
                return Refuse(
                    refusals,
                    certificate,
                    (errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0 ? OcspClientCertificateReason.NoCertificate : OcspClientCertificateReason.UntrustedChain,
                    reason!);
            }

            return validator is null || policy is null ? null : validator.Check(verified, policy);
        }
#pragma warning disable CA1031 // A check that fails refuses the handshake with its reason; it never escapes into the TLS layer.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return Refuse(
                refusals,
                certificate,
                OcspClientCertificateReason.CheckFailed,
                $"client certificate {CertificateNames.DisplayName(certificate)} could not be checked: {ex.GetType().Name}: {LogText.Quote(ex.Message)}");
        }
        finally
        {
            ClientChains.Dispose(verified);
        }
    }

    private static OcspClientCertificateDecision Refuse(ClientCertificateRefusals? refusals, X509Certificate2? certificate, OcspClientCertificateReason reason, string message)
    {
        refusals?.Refused(certificate, reason, message);
        return OcspClientCertificateDecision.Refused(reason, message);
    }
}
