using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Ocsp.Stapling;
using Ocsp.Stapling.AspNetCore.Internal;
using Ocsp.Stapling.Internal;

namespace Microsoft.AspNetCore.Authentication.Certificate;

/// <summary>
/// OCSP revocation checks of client certificates in ASP.NET Core certificate authentication, from the validated, shared,
/// refreshed cache of <c>AddOcspStapling()</c> instead of the runtime's online check on the request thread.
/// </summary>
public static class OcspCertificateAuthenticationOptionsExtensions
{
    /// <summary>
    /// Checks the revocation of each client certificate and of every CA of its chain below the root with
    /// <see cref="OcspClientCertificateValidator.CheckAsync"/> in the asynchronous
    /// <see cref="CertificateAuthenticationEvents.OnCertificateValidated"/> event (no thread blocks; a certificate not seen
    /// before waits up to <see cref="OcspClientCertificatePolicy.FirstAnswerTimeout"/> for its responder), and turns the
    /// handler's own revocation check off (<see cref="CertificateAuthenticationOptions.RevocationMode"/> =
    /// <see cref="X509RevocationMode.NoCheck"/>). The chain it checks is built again with issuer downloads off, from the
    /// handler's trust settings: the intermediates clients send in the handshake are not among them, so they must be in
    /// <see cref="CertificateAuthenticationOptions.AdditionalChainCertificates"/> — give them (with the root) as
    /// <paramref name="clientCertificateAuthorities"/> and this is done for you. A rejected certificate fails
    /// authentication with the decision's message; an accepted one goes on to the <c>OnCertificateValidated</c> handler set
    /// before this call. Call it after setting <see cref="CertificateAuthenticationOptions.Events"/> (a later assignment
    /// replaces the check).
    /// </summary>
    /// <param name="options">The certificate authentication options.</param>
    /// <param name="policy">The policy; <see langword="null"/> for the default (fail-closed, the whole chain, unknown rejected, answers at most an hour old, 5 s first-answer bound).</param>
    /// <param name="clientCertificateAuthorities">
    /// The client CAs, root and intermediates (a PEM file of them, say); <see langword="null"/> to keep the trust settings
    /// already made. When given: <see cref="CertificateAuthenticationOptions.ChainTrustValidationMode"/> becomes
    /// <see cref="X509ChainTrustMode.CustomRootTrust"/>, and each certificate is added to
    /// <see cref="CertificateAuthenticationOptions.CustomTrustStore"/> and <see cref="CertificateAuthenticationOptions.AdditionalChainCertificates"/>
    /// (so the handler completes the chain without fetching anything).
    /// </param>
    /// <returns>The options.</returns>
    public static CertificateAuthenticationOptions CheckOcspRevocation(
        this CertificateAuthenticationOptions options, OcspClientCertificatePolicy? policy = null, X509Certificate2Collection? clientCertificateAuthorities = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        OcspClientCertificatePolicy checking = policy ?? new OcspClientCertificatePolicy();
        options.RevocationMode = X509RevocationMode.NoCheck;
        if (clientCertificateAuthorities is { Count: > 0 })
        {
            options.ChainTrustValidationMode = X509ChainTrustMode.CustomRootTrust;
            options.CustomTrustStore.AddRange(clientCertificateAuthorities);
            options.AdditionalChainCertificates.AddRange(clientCertificateAuthorities);
        }

        options.Events ??= new CertificateAuthenticationEvents();
        Func<CertificateValidatedContext, Task> next = options.Events.OnCertificateValidated;
        options.Events.OnCertificateValidated = async context =>
        {
            IServiceProvider services = context.HttpContext.RequestServices;
            OcspClientCertificateValidator validator = services.GetService<OcspClientCertificateValidator>()
                ?? throw new InvalidOperationException("CheckOcspRevocation needs the OCSP provider: call services.AddOcspStapling() when configuring services.");
            ILogger logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Ocsp.Stapling.ClientCertificates");
            X509Certificate2[] chain = Chain(context.ClientCertificate, context.Options, out string? refused);
            try
            {
                if (refused is not null)
                {
                    (validator as ClientCertificateValidator)?.Refusals.Refused(context.ClientCertificate, OcspClientCertificateReason.UntrustedChain, refused);
                    context.Fail(refused);
                    return;
                }

                OcspClientCertificateDecision decision = await validator.CheckAsync(chain, checking, context.HttpContext.RequestAborted).ConfigureAwait(false);
                if (!decision.IsAccepted)
                {
                    Ocsp.Stapling.AspNetCore.Internal.Log.ClientCertificateAuthenticationFailed(logger, decision.Message);
                    context.Fail(decision.Message);
                    return;
                }
            }
            finally
            {
                ClientChains.Dispose(chain);
            }

            await next(context).ConfigureAwait(false);
        };
        return options;
    }

    /// <summary>
    /// The certificate's chain as the handler trusts it (its trust mode, stores and extra certificates), built again with
    /// issuer downloads and revocation off; or why it cannot be (the handler found one only by downloading an issuer).
    /// </summary>
    private static X509Certificate2[] Chain(X509Certificate2 certificate, CertificateAuthenticationOptions options, out string? refused)
    {
        // A self-signed certificate the handler accepted (AllowedCertificateTypes) has no CA to ask: the policy's failure mode decides.
        using var chain = new X509Chain();
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        chain.ChainPolicy.TrustMode = options.ChainTrustValidationMode;
        chain.ChainPolicy.CustomTrustStore.AddRange(options.CustomTrustStore);
        chain.ChainPolicy.ExtraStore.AddRange(options.AdditionalChainCertificates);
        chain.ChainPolicy.VerificationFlags = X509VerificationFlags.IgnoreNotTimeValid; // the handler has judged validity: its own setting (ValidateValidityPeriod) rules
        bool built = chain.Build(certificate);
        X509Certificate2[] elements = [.. chain.ChainElements.Select(e => e.Certificate)];
        bool selfSigned = elements.Length == 1 && certificate.SubjectName.RawData.AsSpan().SequenceEqual(certificate.IssuerName.RawData);
        if (built || selfSigned || (elements.Length > 1 && chain.ChainStatus.All(s => s.Status is X509ChainStatusFlags.NotTimeValid or X509ChainStatusFlags.NoError)))
        {
            refused = null;
            return elements;
        }

        ClientChains.Dispose(elements);
        string statuses = string.Join(", ", chain.ChainStatus.Select(s => s.Status).Distinct());
        refused = $"client certificate {CertificateNames.DisplayName(certificate)}: its chain does not reach a configured root without fetching an issuer ({statuses}); "
            + "give the intermediate CAs in CertificateAuthenticationOptions.AdditionalChainCertificates (or as CheckOcspRevocation's clientCertificateAuthorities)";
        return [];
    }
}
