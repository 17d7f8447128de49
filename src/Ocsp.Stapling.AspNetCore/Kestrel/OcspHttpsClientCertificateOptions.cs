using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Options;

namespace Ocsp.Stapling.AspNetCore;

/// <summary>
/// Client certificates on a stapled Kestrel endpoint (<see cref="OcspStaplingHttpsOptions.ClientCertificates"/>): whether
/// they are asked for, the CAs they must chain to (built with issuer downloads off), and their OCSP revocation check.
/// </summary>
public sealed class OcspHttpsClientCertificateOptions : IValidatableObject
{
    /// <summary>
    /// Gets or sets whether clients are asked for a certificate: <see cref="ClientCertificateMode.RequireCertificate"/>
    /// (mTLS: a client without a valid one fails the handshake), <see cref="ClientCertificateMode.AllowCertificate"/> (one
    /// sent is checked, none is accepted) or <see cref="ClientCertificateMode.NoCertificate"/>. A certificate sent must chain
    /// to <see cref="Authorities"/> (or the system's trust when that is empty) and pass <see cref="Revocation"/> when set.
    /// <see cref="ClientCertificateMode.DelayCertificate"/> is not supported.
    /// </summary>
    /// <value>The default value is <see cref="ClientCertificateMode.NoCertificate"/>.</value>
    public ClientCertificateMode Mode { get; set; } = ClientCertificateMode.NoCertificate;

    /// <summary>
    /// Gets the CAs client certificates must chain to (roots, with any intermediates clients may not send); empty: the
    /// system's trust. The chain is built with issuer downloads and the runtime's own revocation fetch off: <see cref="Revocation"/> checks revocation.
    /// </summary>
    public X509Certificate2Collection Authorities { get; } = [];

    /// <summary>
    /// Gets or sets the OCSP revocation check of client certificates at the TLS level
    /// (<see cref="OcspClientCertificateValidator.Check"/>: from memory and the shared store, never waiting for a
    /// responder; a certificate never seen is decided by the failure mode while its responder is asked in the
    /// background); <see langword="null"/> for none.
    /// </summary>
    /// <value>The default value is <see langword="null"/>.</value>
    [ValidateObjectMembers]
    public OcspClientCertificatePolicy? Revocation { get; set; }

    /// <inheritdoc />
    IEnumerable<ValidationResult> IValidatableObject.Validate(ValidationContext validationContext)
    {
        if (Mode is not (ClientCertificateMode.NoCertificate or ClientCertificateMode.AllowCertificate or ClientCertificateMode.RequireCertificate))
        {
            yield return new ValidationResult(
                $"OcspStaplingHttpsOptions.ClientCertificates: Mode {Mode} is not supported (NoCertificate, AllowCertificate or RequireCertificate).", [nameof(Mode)]);
        }

        if (Revocation is not null && Mode == ClientCertificateMode.NoCertificate)
        {
            yield return new ValidationResult(
                "OcspStaplingHttpsOptions.ClientCertificates: Revocation is set but Mode is NoCertificate (no client certificate would be asked for).", [nameof(Revocation)]);
        }
    }
}
