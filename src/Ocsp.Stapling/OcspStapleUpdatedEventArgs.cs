using System.Security.Cryptography.X509Certificates;

namespace Ocsp.Stapling;

/// <summary>Raised when a certificate's staple changed: a newer validated response, or removal at nextUpdate.</summary>
public sealed class OcspStapleUpdatedEventArgs : EventArgs
{
    /// <summary>Initializes a new instance.</summary>
    /// <param name="certificate">The certificate.</param>
    /// <param name="staple">The new staple, or <see langword="null"/> when the old one expired and none replaces it.</param>
    /// <param name="source">Where the staple came from: <c>responder</c>, <c>cache</c> or <c>expired</c>.</param>
    public OcspStapleUpdatedEventArgs(X509Certificate2 certificate, OcspStaple? staple, string source)
    {
        Certificate = certificate;
        Staple = staple;
        Source = source;
    }

    /// <summary>Gets the certificate.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>Gets the staple now served (<see langword="null"/>: none). A revoked staple is reported here too, though not stapled by default.</summary>
    public OcspStaple? Staple { get; }

    /// <summary>Gets where the staple came from: <c>responder</c>, <c>cache</c> (the shared L2 store) or <c>expired</c>.</summary>
    public string Source { get; }
}
