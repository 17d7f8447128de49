namespace Ocsp.Stapling.Internal;

/// <summary>The result of fetching one response: a staple that passed the caller's check, or a failure with its reason.</summary>
internal sealed class FetchOutcome
{
    private FetchOutcome(
        OcspStaple? staple, OcspFailureReason reason, string message, OcspValidationFailure validationFailure, FailureScope scope, TimeSpan? retryAfter, int? responderIndex = null, Uri? responder = null,
        ParsedCrl? crl = null)
    {
        Crl = crl;
        ResponderIndex = responderIndex;
        Responder = responder;
        Staple = staple;
        Reason = reason;
        Message = message;
        ValidationFailure = validationFailure;
        Scope = scope;
        RetryAfter = retryAfter;
    }

    public OcspStaple? Staple { get; }

    /// <summary>The index of the responder URL that answered (a success), to try first next time.</summary>
    public int? ResponderIndex { get; }

    /// <summary>The responder URL that gave this outcome (the last one asked), or <see langword="null"/> when none was asked.</summary>
    public Uri? Responder { get; }

    /// <summary>Gets the CRL fetched and validated (a CRL fetch's success).</summary>
    public ParsedCrl? Crl { get; }

    public bool IsSuccess => Staple is not null || Crl is not null;

    /// <summary>Why it failed; meaningless on success.</summary>
    public OcspFailureReason Reason { get; }

    public string Message { get; }

    public OcspValidationFailure ValidationFailure { get; }

    /// <summary>What the failure says about the responder: whether it is retried and whether the circuit breaker counts it; meaningless on success.</summary>
    public FailureScope Scope { get; }

    /// <summary>Gets a value indicating whether another attempt may give another answer.</summary>
    public bool Retryable => !IsSuccess && Scope != FailureScope.Request;

    /// <summary>Gets a value indicating whether the failure says the responder is failing (its host's circuit breaker counts it).</summary>
    public bool CountsAgainstResponder => !IsSuccess && Scope == FailureScope.Responder;

    public TimeSpan? RetryAfter { get; }

    /// <summary>No responder to ask (no OCSP URL, or disabled by override): not an outage, nothing to retry.</summary>
    public bool NothingToAsk => !IsSuccess && Reason is OcspFailureReason.NoResponder or OcspFailureReason.Disabled;

    /// <summary>This outcome, as answered by <paramref name="responder"/>, the responder URL at <paramref name="index"/>.</summary>
    public FetchOutcome From(Uri responder, int index) => new(Staple, Reason, Message, ValidationFailure, Scope, RetryAfter, index, responder, Crl);

    /// <summary>The failure, as the public API reports it.</summary>
    public OcspFailure ToFailure(DateTimeOffset at) => new(Reason, Message, ValidationFailure, at, Responder);

    public static FetchOutcome Success(OcspStaple staple) => new(staple, default, "OK", OcspValidationFailure.None, FailureScope.Request, null);

    public static FetchOutcome Success(ParsedCrl crl) => new(null, default, "OK", OcspValidationFailure.None, FailureScope.Request, null, crl: crl);

    public static FetchOutcome Fail(OcspFailureReason reason, string message, FailureScope scope = FailureScope.Responder, TimeSpan? retryAfter = null) =>
        new(null, reason, message, OcspValidationFailure.None, scope, retryAfter);

    /// <summary>
    /// A response the validator refused, scoped by what it says: a refusal of this request (<c>malformedRequest</c>,
    /// <c>unauthorized</c>, <c>sigRequired</c>) or an answer about another CertID or nonce is about this request; anything
    /// else — garbage, an HTML page, <c>tryLater</c>, a bad signature or signer, a stale answer — is the responder (or
    /// what stands in front of it) failing whatever is asked, and no client can make it answer so for a serial of its choosing.
    /// </summary>
    public static FetchOutcome Rejected(OcspValidationResult result) =>
        new(null, OcspFailureReason.InvalidResponse, result.Message, result.Failure, ScopeOf(result), null);

    public static FetchOutcome TooLarge(string message) =>
        new(null, OcspFailureReason.InvalidResponse, message, OcspValidationFailure.ResponseTooLarge, FailureScope.Responder, null);

    /// <summary>What an HTTP status other than 200 says (RFC 9110 §15): a 5xx is the responder failing; 408 and 429 may pass; any other 4xx refuses this request.</summary>
    public static FailureScope ScopeOf(System.Net.HttpStatusCode status) => (int)status switch
    {
        >= 500 => FailureScope.Responder,
        408 or 429 => FailureScope.Transient,
        >= 400 => FailureScope.Request,
        _ => FailureScope.Transient, // 1xx/2xx other than 200, an unfollowed 3xx: odd, not the responder's health
    };

    private static FailureScope ScopeOf(OcspValidationResult result) => result.Failure switch
    {
        OcspValidationFailure.UnsuccessfulStatus => result.Response?.Status is OcspResponseStatus.TryLater or OcspResponseStatus.InternalError
            ? FailureScope.Responder
            : FailureScope.Request, // malformedRequest, unauthorized, sigRequired: RFC 6960 §2.3, about this request
        OcspValidationFailure.CertificateIdMismatch or OcspValidationFailure.NonceMismatch => FailureScope.Request,
        _ => FailureScope.Responder,
    };
}
