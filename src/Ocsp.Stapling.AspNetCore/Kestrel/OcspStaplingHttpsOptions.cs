using System.ComponentModel.DataAnnotations;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Options;
using Ocsp.Stapling.AspNetCore.Internal;
using Ocsp.Stapling.Internal;

namespace Ocsp.Stapling.AspNetCore;

/// <summary>
/// HTTPS with OCSP stapling for one Kestrel endpoint: a single certificate (<see cref="ServerCertificate"/>), certificate
/// files that rotate (<see cref="ServerCertificateSource"/>) or an SNI selector (<see cref="ServerCertificateSelector"/>),
/// as with Kestrel's own <c>HttpsConnectionAdapterOptions</c>.
/// </summary>
public sealed class OcspStaplingHttpsOptions : IValidatableObject
{
    /// <summary>
    /// Gets or sets the server certificate, with its private key. Set this, <see cref="ServerCertificateSource"/> or
    /// <see cref="ServerCertificateSelector"/>.
    /// </summary>
    /// <value>The default value is <see langword="null"/>.</value>
    public X509Certificate2? ServerCertificate { get; set; }

    /// <summary>
    /// Gets or sets certificate files watched for renewals (<see cref="OcspStaplingContexts.WatchPemFiles"/>,
    /// <see cref="OcspStaplingContexts.WatchPfxFile"/>): each handshake is served the source's current certificate, and a
    /// renewed one only once it has been prepared with a staple.
    /// </summary>
    /// <value>The default value is <see langword="null"/>.</value>
    public OcspCertificateFileSource? ServerCertificateSource { get; set; }

    /// <summary>
    /// Gets or sets the intermediate certificates (a root may be included) sent with the server certificate and used to
    /// find its issuer; for a selector, they serve every certificate it returns. The certificate store is searched too.
    /// </summary>
    /// <value>The default value is <see langword="null"/>.</value>
    public X509Certificate2Collection? ServerCertificateChain { get; set; }

    /// <summary>
    /// Gets or sets an SNI selector in the shape of Kestrel's <c>ServerCertificateSelector</c>: the connection (may be
    /// <see langword="null"/>) and the host name the client asked for, to the certificate to serve. Each certificate it
    /// returns gets its own stapling context, hooked before its first handshake and registered with the provider.
    /// </summary>
    /// <value>The default value is <see langword="null"/>.</value>
    public Func<ConnectionContext?, string?, X509Certificate2?>? ServerCertificateSelector { get; set; }

    /// <summary>
    /// Gets the certificates <see cref="ServerCertificateSelector"/> may return, to hook and register at start-up: each is
    /// then stapled from its very first handshake (and after a restart, from the shared cache). Others are hooked the
    /// first time the selector returns them.
    /// </summary>
    public X509Certificate2Collection SelectableCertificates { get; } = [];

    /// <summary>Gets or sets the TLS handshake timeout.</summary>
    /// <value>The default value is 10 seconds, as in Kestrel.</value>
    [Range(typeof(TimeSpan), OptionRanges.Zero, OptionRanges.MaxTimeSpan, MinimumIsExclusive = true)]
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Gets or sets a callback that adjusts the per-connection TLS options (protocols, cipher suites, client
    /// certificates) before the handshake. Leave <see cref="SslServerAuthenticationOptions.ServerCertificateContext"/> as is.
    /// </summary>
    /// <value>The default value is <see langword="null"/>.</value>
    public Action<TlsHandshakeCallbackContext, SslServerAuthenticationOptions>? OnAuthenticate { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether start-up fails when a must-staple certificate (TLS Feature
    /// status_request) has no valid staple: the shared cache is read, then the responder is asked, for up to
    /// <see cref="StartupStapleTimeout"/>. Without it, such a certificate is served and an Error is logged (clients
    /// enforcing must-staple reject its handshakes until a staple is fetched).
    /// </summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool RequireStapleForMustStaple { get; set; }

    /// <summary>Gets or sets how long start-up waits for the staple of a must-staple certificate when <see cref="RequireStapleForMustStaple"/> is set.</summary>
    /// <value>The default value is 30 seconds.</value>
    [Range(typeof(TimeSpan), OptionRanges.Zero, OptionRanges.MaxTimeSpan, MinimumIsExclusive = true)]
    public TimeSpan StartupStapleTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gets or sets whether clients are asked for a certificate: <see cref="ClientCertificateMode.RequireCertificate"/>
    /// (mTLS: a client without a valid one fails the handshake), <see cref="ClientCertificateMode.AllowCertificate"/> (one
    /// sent is checked, none is accepted) or <see cref="ClientCertificateMode.NoCertificate"/>. A certificate sent must chain
    /// to <see cref="ClientCertificateAuthorities"/> (or the system's trust when that is empty) and pass
    /// <see cref="ClientCertificateRevocation"/> when set. <see cref="ClientCertificateMode.DelayCertificate"/> is not supported.
    /// </summary>
    /// <value>The default value is <see cref="ClientCertificateMode.NoCertificate"/>.</value>
    public ClientCertificateMode ClientCertificateMode { get; set; } = ClientCertificateMode.NoCertificate;

    /// <summary>
    /// Gets the CAs client certificates must chain to (roots, with any intermediates clients may not send); empty: the system's trust.
    /// The chain is built without the runtime's own revocation fetch: <see cref="ClientCertificateRevocation"/> checks revocation.
    /// </summary>
    public X509Certificate2Collection ClientCertificateAuthorities { get; } = [];

    /// <summary>
    /// Gets or sets the OCSP revocation check of client certificates at the TLS level
    /// (<see cref="OcspClientCertificateValidator.Check"/>: from memory and the shared store, never waiting for a
    /// responder; a certificate never seen is decided by the failure mode while its responder is asked in the
    /// background); <see langword="null"/> for none.
    /// </summary>
    /// <value>The default value is <see langword="null"/>.</value>
    [ValidateObjectMembers]
    public OcspClientCertificatePolicy? ClientCertificateRevocation { get; set; }

    /// <inheritdoc />
    IEnumerable<ValidationResult> IValidatableObject.Validate(ValidationContext validationContext)
    {
        int set = (ServerCertificate is null ? 0 : 1) + (ServerCertificateSource is null ? 0 : 1) + (ServerCertificateSelector is null ? 0 : 1);
        if (set != 1)
        {
            yield return new ValidationResult(
                $"OcspStaplingHttpsOptions: set exactly one of {nameof(ServerCertificate)}, {nameof(ServerCertificateSource)} and {nameof(ServerCertificateSelector)}.",
                [nameof(ServerCertificate), nameof(ServerCertificateSource), nameof(ServerCertificateSelector)]);
        }

        if (ClientCertificateMode is not (ClientCertificateMode.NoCertificate or ClientCertificateMode.AllowCertificate or ClientCertificateMode.RequireCertificate))
        {
            yield return new ValidationResult(
                $"OcspStaplingHttpsOptions: ClientCertificateMode {ClientCertificateMode} is not supported (NoCertificate, AllowCertificate or RequireCertificate).", [nameof(ClientCertificateMode)]);
        }

        if (ClientCertificateRevocation is not null && ClientCertificateMode == ClientCertificateMode.NoCertificate)
        {
            yield return new ValidationResult(
                "OcspStaplingHttpsOptions: ClientCertificateRevocation is set but ClientCertificateMode is NoCertificate (no client certificate would be asked for).", [nameof(ClientCertificateRevocation)]);
        }
    }
}
