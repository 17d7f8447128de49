namespace Ocsp.Stapling.Internal;

/// <summary>The result of fetching one response: a staple that passed the caller's check, or a failure with its reason code.</summary>
internal sealed class FetchOutcome
{
    private FetchOutcome(
        OcspStaple? staple, string reason, string message, OcspValidationFailure validationFailure, bool retryable, TimeSpan? retryAfter, bool nothingToAsk = false, int? responderIndex = null, Uri? responder = null)
    {
        ResponderIndex = responderIndex;
        Responder = responder;
        NothingToAsk = nothingToAsk;
        Staple = staple;
        Reason = reason;
        Message = message;
        ValidationFailure = validationFailure;
        Retryable = retryable;
        RetryAfter = retryAfter;
    }

    public OcspStaple? Staple { get; }

    /// <summary>The index of the responder URL that answered (a success), to try first next time.</summary>
    public int? ResponderIndex { get; }

    /// <summary>The responder URL that gave this outcome (the last one asked), or <see langword="null"/> when none was asked.</summary>
    public Uri? Responder { get; }

    public bool IsSuccess => Staple is not null;

    public string Reason { get; }

    public string Message { get; }

    public OcspValidationFailure ValidationFailure { get; }

    public bool Retryable { get; }

    public TimeSpan? RetryAfter { get; }

    /// <summary>No responder to ask (no OCSP URL, or disabled by override): not an outage, nothing to retry.</summary>
    public bool NothingToAsk { get; }

    /// <summary>This outcome, as answered by <paramref name="responder"/>, the responder URL at <paramref name="index"/>.</summary>
    public FetchOutcome From(Uri responder, int index) => new(Staple, Reason, Message, ValidationFailure, Retryable, RetryAfter, NothingToAsk, index, responder);

    public static FetchOutcome Success(OcspStaple staple) => new(staple, "Success", "OK", OcspValidationFailure.None, false, null);

    public static FetchOutcome Fail(string reason, string message, bool retryable = true, TimeSpan? retryAfter = null) =>
        new(null, reason, message, OcspValidationFailure.None, retryable, retryAfter);

    public static FetchOutcome NoResponder(string reason, string message) => new(null, reason, message, OcspValidationFailure.None, false, null, nothingToAsk: true);

    public static FetchOutcome Rejected(OcspValidationResult result) =>
        new(null, result.Failure.ToString(), result.Message, result.Failure, true, null);

    public static FetchOutcome TooLarge(string message) =>
        new(null, nameof(OcspValidationFailure.ResponseTooLarge), message, OcspValidationFailure.ResponseTooLarge, true, null);
}
