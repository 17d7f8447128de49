namespace Ocsp.Stapling;

/// <summary>One failed attempt to get a usable response: why (<see cref="Reason"/>), which validation check failed when a response was rejected, what happened, when, and from which responder.</summary>
public sealed class OcspFailure
{
    internal OcspFailure(OcspFailureReason reason, string message, OcspValidationFailure validationFailure, DateTimeOffset at, Uri? responder)
    {
        Reason = reason;
        Message = message;
        ValidationFailure = validationFailure;
        At = at;
        Responder = responder;
    }

    /// <summary>Gets why the attempt failed.</summary>
    public OcspFailureReason Reason { get; }

    /// <summary>Gets the validator's code when a response was rejected (<see cref="OcspFailureReason.InvalidResponse"/>), otherwise <see cref="OcspValidationFailure.None"/>.</summary>
    public OcspValidationFailure ValidationFailure { get; }

    /// <summary>Gets a human-readable explanation for logs and pages.</summary>
    public string Message { get; }

    /// <summary>Gets when the attempt failed.</summary>
    public DateTimeOffset At { get; }

    /// <summary>Gets the responder URL that was asked last, or <see langword="null"/> when none was.</summary>
    public Uri? Responder { get; }

    /// <summary>The reason as logs and the status page write it: <c>Timeout</c>, or <c>InvalidResponse/BadSignature</c> for a rejected response.</summary>
    internal string Code => Describe(Reason, ValidationFailure);

    /// <inheritdoc />
    public override string ToString() => $"{Code}: {Message}";

    internal static string Describe(OcspFailureReason reason, OcspValidationFailure validationFailure) =>
        validationFailure == OcspValidationFailure.None ? reason.ToString() : $"{reason}/{validationFailure}";
}
