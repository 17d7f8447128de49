using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Ocsp.Stapling;
using Ocsp.Stapling.AspNetCore.Internal;

namespace Microsoft.AspNetCore.Authentication.Certificate;

/// <summary>
/// OCSP revocation checks of client certificates in ASP.NET Core certificate authentication, from the validated, shared,
/// refreshed cache of <c>AddOcspStapling()</c> instead of the runtime's online check on the request thread.
/// </summary>
public static class OcspCertificateAuthenticationOptionsExtensions
{
    /// <summary>
    /// Checks each client certificate's revocation with <see cref="IOcspClientCertificateValidator.CheckAsync"/> in the
    /// asynchronous <see cref="CertificateAuthenticationEvents.OnCertificateValidated"/> event (no thread blocks; a
    /// certificate not seen before waits up to <see cref="OcspClientCertificatePolicy.FirstAnswerTimeout"/> for its
    /// responder), and turns the handler's own revocation check off (<see cref="CertificateAuthenticationOptions.RevocationMode"/>
    /// = <see cref="X509RevocationMode.NoCheck"/>). A rejected certificate fails authentication with the decision's message;
    /// an accepted one goes on to the <c>OnCertificateValidated</c> handler set before this call. Call it after setting
    /// <see cref="CertificateAuthenticationOptions.Events"/> (a later assignment replaces the check).
    /// </summary>
    /// <param name="options">The certificate authentication options.</param>
    /// <param name="policy">The policy; <see langword="null"/> for the default (fail-closed, unknown rejected, 5 s first-answer bound).</param>
    /// <returns>The options.</returns>
    public static CertificateAuthenticationOptions CheckOcspRevocation(this CertificateAuthenticationOptions options, OcspClientCertificatePolicy? policy = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        OcspClientCertificatePolicy checking = policy ?? new OcspClientCertificatePolicy();
        options.RevocationMode = X509RevocationMode.NoCheck;
        options.Events ??= new CertificateAuthenticationEvents();
        Func<CertificateValidatedContext, Task> next = options.Events.OnCertificateValidated;
        options.Events.OnCertificateValidated = async context =>
        {
            IServiceProvider services = context.HttpContext.RequestServices;
            IOcspClientCertificateValidator validator = services.GetService<IOcspClientCertificateValidator>()
                ?? throw new InvalidOperationException("CheckOcspRevocation needs the OCSP provider: call services.AddOcspStapling() when configuring services.");
            X509Certificate2 certificate = context.ClientCertificate;
            if (IssuerOf(certificate, context.Options) is not { } issuer)
            {
                if (checking.FailureMode == OcspClientFailureMode.FailClosed)
                {
                    context.Fail($"Client certificate '{certificate.Subject}' has no issuer to check its revocation with (fail-closed).");
                    return;
                }
            }
            else
            {
                OcspClientCertificateDecision decision = await validator.CheckAsync(certificate, issuer, checking, context.HttpContext.RequestAborted).ConfigureAwait(false);
                if (!decision.IsAccepted)
                {
                    Log.ClientCertificateAuthenticationFailed(services.GetRequiredService<ILoggerFactory>().CreateLogger("Ocsp.Stapling.ClientCertificates"), decision.Message);
                    context.Fail(decision.Message);
                    return;
                }
            }

            await next(context).ConfigureAwait(false);
        };
        return options;
    }

    /// <summary>The certificate's issuer in a chain built as the handler builds it (its trust mode and stores), revocation off.</summary>
    private static X509Certificate2? IssuerOf(X509Certificate2 certificate, CertificateAuthenticationOptions options)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.TrustMode = options.ChainTrustValidationMode;
        chain.ChainPolicy.CustomTrustStore.AddRange(options.CustomTrustStore);
        chain.ChainPolicy.ExtraStore.AddRange(options.AdditionalChainCertificates);
        chain.ChainPolicy.VerificationFlags = X509VerificationFlags.AllFlags; // the handler has judged the chain already: only its shape is needed here
        chain.Build(certificate);
        return chain.ChainElements.Count > 1 ? chain.ChainElements[1].Certificate : null;
    }
}
