namespace Ocsp.Stapling.Internal;

/// <summary>The result of fetching one response: a staple that passed the caller's check, or a failure with its reason.</summary>
internal sealed class FetchOutcome
{
    private FetchOutcome(
        OcspStaple? staple, OcspFailureReason reason, string message, OcspValidationFailure validationFailure, bool retryable, TimeSpan? retryAfter, int? responderIndex = null, Uri? responder = null)
    {
        ResponderIndex = responderIndex;
        Responder = responder;
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

    /// <summary>Why it failed; meaningless on success.</summary>
    public OcspFailureReason Reason { get; }

    public string Message { get; }

    public OcspValidationFailure ValidationFailure { get; }

    public bool Retryable { get; }

    public TimeSpan? RetryAfter { get; }

    /// <summary>No responder to ask (no OCSP URL, or disabled by override): not an outage, nothing to retry.</summary>
    public bool NothingToAsk => !IsSuccess && Reason is OcspFailureReason.NoResponder or OcspFailureReason.Disabled;

    /// <summary>This outcome, as answered by <paramref name="responder"/>, the responder URL at <paramref name="index"/>.</summary>
    public FetchOutcome From(Uri responder, int index) => new(Staple, Reason, Message, ValidationFailure, Retryable, RetryAfter, index, responder);

    /// <summary>The failure, as the public API reports it.</summary>
    public OcspFailure ToFailure(DateTimeOffset at) => new(Reason, Message, ValidationFailure, at, Responder);

    public static FetchOutcome Success(OcspStaple staple) => new(staple, default, "OK", OcspValidationFailure.None, false, null);

    public static FetchOutcome Fail(OcspFailureReason reason, string message, bool retryable = true, TimeSpan? retryAfter = null) =>
        new(null, reason, message, OcspValidationFailure.None, retryable, retryAfter);

    public static FetchOutcome Rejected(OcspValidationResult result) =>
        new(null, OcspFailureReason.InvalidResponse, result.Message, result.Failure, true, null);

    public static FetchOutcome TooLarge(string message) =>
        new(null, OcspFailureReason.InvalidResponse, message, OcspValidationFailure.ResponseTooLarge, true, null);
}
