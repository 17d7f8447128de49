using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Ocsp.Stapling;

/// <summary>
/// Client-certificate checks at the TLS level, for an <c>SslStream</c> server (and Kestrel's synchronous
/// <c>ClientCertificateValidation</c>): the chain first, built without the runtime's own revocation fetch, then the
/// revocation check of <see cref="IOcspClientCertificateValidator.Check"/>, which never waits for a responder.
/// </summary>
/// <remarks>
/// The trade-off of a synchronous callback: a certificate with an answer in memory or the shared store is decided by it;
/// one never seen is decided by the failure mode while its responder is asked in the background, so with
/// <see cref="OcspClientFailureMode.FailClosed"/> its first handshake fails and the client's next attempt (once the
/// responder has answered) is decided by the answer. Use certificate authentication
/// (<see cref="IOcspClientCertificateValidator.CheckAsync"/>) where a first request may wait for the responder instead.
/// </remarks>
public static class OcspClientCertificateValidation
{
    private const string ClientAuthentication = "1.3.6.1.5.5.7.3.2";

    /// <summary>
    /// A <see cref="RemoteCertificateValidationCallback"/> for <see cref="SslServerAuthenticationOptions.RemoteCertificateValidationCallback"/>
    /// (set <see cref="SslServerAuthenticationOptions.ClientCertificateRequired"/> too): accepts a client certificate
    /// whose chain is valid and whose revocation check accepts it.
    /// </summary>
    /// <param name="validator">The validator (<c>AddOcspStapling()</c> registers it).</param>
    /// <param name="policy">The endpoint's policy.</param>
    /// <param name="clientCertificateAuthorities">
    /// The CAs client certificates must chain to: the root, with any intermediates clients may not send;
    /// <see langword="null"/> to require a chain the system trusts.
    /// </param>
    /// <param name="rejected">Called with the reason of each rejection (logging, a connection's diagnostics); may be <see langword="null"/>.</param>
    /// <returns>The callback.</returns>
    public static RemoteCertificateValidationCallback CreateCallback(
        IOcspClientCertificateValidator validator, OcspClientCertificatePolicy policy, X509Certificate2Collection? clientCertificateAuthorities = null, Action<string>? rejected = null)
    {
        ArgumentNullException.ThrowIfNull(validator);
        ArgumentNullException.ThrowIfNull(policy);
        X509Certificate2Collection? authorities = clientCertificateAuthorities is null ? null : [.. clientCertificateAuthorities];
        return (_, certificate, chain, errors) =>
        {
            bool accepted = Validate(validator, policy, authorities, certificate as X509Certificate2 ?? (certificate is null ? null : X509CertificateLoader.LoadCertificate(certificate.GetRawCertData())), chain, errors, out string? reason);
            if (!accepted && reason is not null)
            {
                rejected?.Invoke(reason);
            }

            return accepted;
        };
    }

    /// <summary>
    /// Checks a client certificate as <see cref="CreateCallback"/> does: its chain (against
    /// <paramref name="clientCertificateAuthorities"/>, or as the TLS layer judged it), then its revocation.
    /// </summary>
    /// <param name="validator">The validator.</param>
    /// <param name="policy">The endpoint's policy.</param>
    /// <param name="clientCertificateAuthorities">The CAs client certificates must chain to, or <see langword="null"/> for the system's trust.</param>
    /// <param name="certificate">The client certificate (<see langword="null"/> when the client sent none: rejected).</param>
    /// <param name="chain">The chain the TLS layer built, if any (its intermediates are used).</param>
    /// <param name="errors">The TLS layer's verdict on the chain.</param>
    /// <param name="reason">Why it was rejected.</param>
    /// <returns>Whether the certificate is accepted.</returns>
    public static bool Validate(
        IOcspClientCertificateValidator validator,
        OcspClientCertificatePolicy policy,
        X509Certificate2Collection? clientCertificateAuthorities,
        X509Certificate2? certificate,
        X509Chain? chain,
        SslPolicyErrors errors,
        out string? reason)
    {
        ArgumentNullException.ThrowIfNull(validator);
        ArgumentNullException.ThrowIfNull(policy);
        return ValidateChainAndRevocation(validator, policy, clientCertificateAuthorities, certificate, chain, errors, out reason);
    }

    /// <summary><see cref="Validate"/>, or the chain check alone when <paramref name="validator"/> or <paramref name="policy"/> is <see langword="null"/>.</summary>
    internal static bool ValidateChainAndRevocation(
        IOcspClientCertificateValidator? validator,
        OcspClientCertificatePolicy? policy,
        X509Certificate2Collection? clientCertificateAuthorities,
        X509Certificate2? certificate,
        X509Chain? chain,
        SslPolicyErrors errors,
        out string? reason)
    {
        if (certificate is null)
        {
            reason = "no client certificate";
            return false;
        }

        if (!TryFindIssuer(certificate, chain, errors, clientCertificateAuthorities, out X509Certificate2? issuer, out reason))
        {
            return false;
        }

        if (validator is null || policy is null)
        {
            return true;
        }

        if (issuer is null)
        {
            // Trusted as it is (listed itself): there is no CA to ask about it.
            reason = policy.FailureMode == OcspClientFailureMode.FailOpen ? null : $"client certificate '{certificate.Subject}' has no issuer to check its revocation with (fail-closed)";
            return reason is null;
        }

        OcspClientCertificateDecision decision = validator.Check(certificate, issuer, policy);
        reason = decision.IsAccepted ? null : decision.Message;
        return decision.IsAccepted;
    }

    /// <summary>
    /// The chain check: a chain to one of <paramref name="authorities"/> built with revocation off (the check of
    /// <see cref="IOcspClientCertificateValidator"/> replaces it) and the clientAuth purpose, or the TLS layer's verdict
    /// when no authorities are given; and the certificate's issuer from that chain.
    /// </summary>
    private static bool TryFindIssuer(
        X509Certificate2 certificate, X509Chain? chain, SslPolicyErrors errors, X509Certificate2Collection? authorities, out X509Certificate2? issuer, out string? reason)
    {
        issuer = null;
        if (authorities is null)
        {
            if (errors != SslPolicyErrors.None || chain is null)
            {
                reason = $"client certificate '{certificate.Subject}' is not trusted: {errors}";
                return false;
            }

            issuer = chain.ChainElements.Count > 1 ? chain.ChainElements[1].Certificate : null;
            reason = null;
            return true;
        }

        if ((errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
        {
            reason = "no client certificate";
            return false;
        }

        using var built = new X509Chain();
        built.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        built.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        built.ChainPolicy.ApplicationPolicy.Add(new Oid(ClientAuthentication));
        built.ChainPolicy.CustomTrustStore.AddRange(authorities);
        built.ChainPolicy.ExtraStore.AddRange(authorities); // intermediates of the CA file complete chains clients send without them

        if (chain is not null)
        {
            foreach (X509ChainElement element in chain.ChainElements)
            {
                if (!element.Certificate.RawDataMemory.Span.SequenceEqual(certificate.RawDataMemory.Span))
                {
                    built.ChainPolicy.ExtraStore.Add(element.Certificate);
                }
            }
        }

        if (!built.Build(certificate))
        {
            string statuses = string.Join(", ", built.ChainStatus.Select(s => s.Status).Distinct());
            reason = $"client certificate '{certificate.Subject}' does not chain to a client CA: {statuses}";
            return false;
        }

        issuer = built.ChainElements.Count > 1 ? built.ChainElements[1].Certificate : null;
        reason = null;
        return true;
    }
}
