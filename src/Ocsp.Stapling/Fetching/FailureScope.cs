namespace Ocsp.Stapling.Internal;

/// <summary>
/// What a failed attempt says, and so what follows it: only failures of the responder itself count against its host's
/// circuit breaker, so that nobody can cut a server off its responder by asking about serials the responder refuses.
/// </summary>
internal enum FailureScope
{
    /// <summary>
    /// The responder is failing whatever is asked: no connection, no answer in time, an HTTP 5xx, OCSP <c>tryLater</c>
    /// or <c>internalError</c>, garbage or an HTML page, a response it should not have signed so (bad signature, wrong
    /// signer, expired). Retried, and counted by the host's circuit breaker.
    /// </summary>
    Responder,

    /// <summary>An answer that may be right on another try and says nothing about the responder's health: HTTP 408, 429, or an odd status. Retried, never counted.</summary>
    Transient,

    /// <summary>
    /// An answer about this one request: HTTP 4xx, OCSP <c>malformedRequest</c>, <c>unauthorized</c> or
    /// <c>sigRequired</c>, a response for another CertID, a signed <c>unknown</c>, a redirect refused, nothing to ask.
    /// Asking again changes nothing: neither retried nor counted.
    /// </summary>
    Request,
}
