using System.Security.Cryptography.X509Certificates;

namespace Ocsp.Stapling;

/// <summary>Raised when a certificate got a newer validated response, from its responder or from the shared store.</summary>
public sealed class OcspStapleUpdatedEventArgs : EventArgs
{
    internal OcspStapleUpdatedEventArgs(X509Certificate2 certificate, OcspStaple staple, OcspStapleSource source, bool isServed)
    {
        Certificate = certificate;
        Staple = staple;
        Source = source;
        IsServed = isServed;
    }

    /// <summary>Gets the certificate.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>Gets the new validated response (a revoked one is reported here too, though not stapled by default).</summary>
    public OcspStaple Staple { get; }

    /// <summary>Gets where the staple came from: <see cref="OcspStapleSource.Responder"/> or <see cref="OcspStapleSource.SharedStore"/>.</summary>
    public OcspStapleSource Source { get; }

    /// <summary>
    /// Gets a value indicating whether handshakes now carry <see cref="Staple"/>: <see langword="false"/> for a revoked
    /// response unless <see cref="OcspStaplingOptions.StapleRevoked"/> is set. When <see langword="false"/>, the previous
    /// staple is no longer served either.
    /// </summary>
    public bool IsServed { get; }
}
