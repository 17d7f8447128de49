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
    [TimeSpanRange(OptionRanges.Zero, OptionRanges.MaxTimeSpan, MinimumIsExclusive = true)]
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
    [TimeSpanRange(OptionRanges.Zero, OptionRanges.MaxTimeSpan, MinimumIsExclusive = true)]
    public TimeSpan StartupStapleTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets the endpoint's client-certificate settings: asked for or not, the CAs they must chain to, their OCSP revocation check.</summary>
    [ValidateObjectMembers]
    public OcspHttpsClientCertificateOptions ClientCertificates { get; } = new();

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
    }
}
