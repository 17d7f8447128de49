using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography.X509Certificates;

namespace Ocsp.Stapling;

/// <summary>
/// The source of OCSP staples for a TLS server. Implementations keep a fresh, validated response for every
/// registered certificate and guarantee:
/// <list type="bullet">
/// <item>every staple they return was accepted by <see cref="OcspResponseValidator"/> and is valid at the time it is returned
/// (never past its <see cref="OcspStaple.NextUpdate"/>);</item>
/// <item>an invalid response never replaces a valid one;</item>
/// <item><see cref="TryGetCachedStaple"/> does no I/O, takes no lock, reads no clock and allocates nothing, so it may be called on
/// every handshake (expiry is enforced by a timer at nextUpdate, with timer precision);</item>
/// <item>concurrent <see cref="GetStapleAsync"/> calls for the same certificate share one upstream request.</item>
/// </list>
/// </summary>
public interface IOcspResponseProvider
{
    /// <summary>
    /// Returns the current staple for <paramref name="certificate"/> from memory only. Never blocks, never throws for
    /// OCSP reasons, allocates nothing. Returns <see langword="false"/> when no valid staple is held (not yet fetched,
    /// expired, or the responder never gave a valid answer).
    /// </summary>
    /// <param name="certificate">A server certificate.</param>
    /// <param name="staple">The staple, when one is held and still valid.</param>
    /// <returns><see langword="true"/> when <paramref name="staple"/> is set.</returns>
    bool TryGetCachedStaple(X509Certificate2 certificate, [NotNullWhen(true)] out OcspStaple? staple);

    /// <summary>
    /// Returns the current staple for <paramref name="certificate"/>, reading the shared cache and then fetching from the
    /// responder when no valid one is held. Returns <see langword="null"/> when none can be had now; the reason is logged
    /// and reported through the provider's notifications. Does not throw for responder or cache failures. Registers
    /// nothing: for a certificate that is not registered the answer is fetched once (and written to the shared cache),
    /// neither kept in memory nor refreshed; register it with <see cref="OcspCertificateRegistry.Register(System.Security.Cryptography.X509Certificates.X509Certificate2, System.Security.Cryptography.X509Certificates.X509Certificate2)"/> to keep it stapled.
    /// </summary>
    /// <param name="certificate">A server certificate.</param>
    /// <param name="issuer">Its issuer's certificate.</param>
    /// <param name="cancellationToken">Cancels the wait (a shared upstream fetch still completes for other callers).</param>
    /// <returns>The staple, or <see langword="null"/>.</returns>
    ValueTask<OcspStaple?> GetStapleAsync(X509Certificate2 certificate, X509Certificate2 issuer, CancellationToken cancellationToken = default);
}
