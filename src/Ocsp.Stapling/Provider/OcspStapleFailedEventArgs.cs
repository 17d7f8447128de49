using System.Security.Cryptography.X509Certificates;

namespace Ocsp.Stapling;

/// <summary>Raised when a fetch or refresh produced no usable response. The previous staple, if any, stays in place.</summary>
public sealed class OcspStapleFailedEventArgs : EventArgs
{
    /// <summary>Initializes a new instance.</summary>
    /// <param name="certificate">The certificate.</param>
    /// <param name="reason">A stable reason code (see <see cref="Reason"/>).</param>
    /// <param name="message">A human-readable explanation.</param>
    /// <param name="validationFailure">The validator's code when a response was received and rejected.</param>
    /// <param name="currentStaple">The staple still served, if any.</param>
    public OcspStapleFailedEventArgs(X509Certificate2 certificate, string reason, string message, OcspValidationFailure validationFailure, OcspStaple? currentStaple)
    {
        Certificate = certificate;
        Reason = reason;
        Message = message;
        ValidationFailure = validationFailure;
        CurrentStaple = currentStaple;
    }

    /// <summary>Gets the certificate.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>
    /// Gets the reason code: an <see cref="OcspValidationFailure"/> name when a response was rejected, otherwise one of
    /// <c>NoResponder</c>, <c>Disabled</c>, <c>ConnectionFailed</c>, <c>Timeout</c>, <c>HttpStatus</c>, <c>CircuitOpen</c>,
    /// <c>CertificateUnknown</c>, <c>NotNewer</c>.
    /// </summary>
    public string Reason { get; }

    /// <summary>Gets a human-readable explanation.</summary>
    public string Message { get; }

    /// <summary>Gets the validator's code when a response was rejected, otherwise <see cref="OcspValidationFailure.None"/>.</summary>
    public OcspValidationFailure ValidationFailure { get; }

    /// <summary>Gets the staple still being served, if any.</summary>
    public OcspStaple? CurrentStaple { get; }
}
