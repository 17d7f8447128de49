using System.Security.Cryptography.X509Certificates;

namespace Ocsp.Stapling;

/// <summary>Raised when a certificate got a newer validated response, from its responder or from the shared cache.</summary>
public sealed class OcspStapleUpdatedEventArgs : EventArgs
{
    /// <summary>Initializes a new instance.</summary>
    /// <param name="certificate">The certificate.</param>
    /// <param name="staple">The new validated response.</param>
    /// <param name="source">Where it came from: <c>responder</c> or <c>cache</c>.</param>
    /// <param name="isServed">Whether handshakes now carry it.</param>
    public OcspStapleUpdatedEventArgs(X509Certificate2 certificate, OcspStaple staple, string source, bool isServed)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(staple);
        Certificate = certificate;
        Staple = staple;
        Source = source;
        IsServed = isServed;
    }

    /// <summary>Gets the certificate.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>Gets the new validated response (a revoked one is reported here too, though not stapled by default).</summary>
    public OcspStaple Staple { get; }

    /// <summary>Gets where the staple came from: <c>responder</c>, or <c>cache</c> (the shared L2 store).</summary>
    public string Source { get; }

    /// <summary>
    /// Gets a value indicating whether handshakes now carry <see cref="Staple"/>: <see langword="false"/> for a revoked
    /// response unless <see cref="OcspStaplingOptions.StapleRevoked"/> is set. When <see langword="false"/>, the previous
    /// staple is no longer served either.
    /// </summary>
    public bool IsServed { get; }
}
