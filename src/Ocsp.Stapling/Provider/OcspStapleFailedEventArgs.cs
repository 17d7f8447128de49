using System.Security.Cryptography.X509Certificates;

namespace Ocsp.Stapling;

/// <summary>Raised when a fetch or refresh produced no usable response. The previous staple, if any, stays in place until its nextUpdate.</summary>
public sealed class OcspStapleFailedEventArgs : EventArgs
{
    internal OcspStapleFailedEventArgs(X509Certificate2 certificate, OcspFailure failure, OcspStaple? servedStaple)
    {
        Certificate = certificate;
        Failure = failure;
        ServedStaple = servedStaple;
    }

    /// <summary>Gets the certificate.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>Gets why the attempt failed (<see cref="OcspFailure.Reason"/>), with its explanation and the responder asked.</summary>
    public OcspFailure Failure { get; }

    /// <summary>Gets the staple still being served, if any.</summary>
    public OcspStaple? ServedStaple { get; }
}
