namespace Ocsp.Stapling;

/// <summary>
/// Why a fetch or refresh gave no usable response: the one closed set of failure reasons, with the same names in
/// <see cref="OcspFailure.Reason"/> (events, <see cref="OcspRefreshResult"/>, <see cref="OcspCertificateState"/>), the
/// log lines, the status page's JSON and the <c>reason</c> tag of the <c>ocsp.stapling.fetch.count</c> metric.
/// </summary>
public enum OcspFailureReason
{
    /// <summary>
    /// A response was received and rejected by the validator (garbage, an HTML error page, a wrong signer, another
    /// certificate's response, expired, <c>tryLater</c>…): <see cref="OcspFailure.ValidationFailure"/> says which check failed.
    /// </summary>
    InvalidResponse,

    /// <summary>A valid response says the certificate's status is <c>unknown</c>: the responder does not know it. Nothing is stapled for it.</summary>
    CertificateUnknown,

    /// <summary>A valid response, but not newer than the one held (a responder answering from its own cache): asked again after the failure back-off.</summary>
    NotNewer,

    /// <summary>The responder answered with an HTTP status other than 200.</summary>
    HttpStatus,

    /// <summary>The connection to the responder failed or broke off (refused, reset, DNS, TLS).</summary>
    ConnectionFailed,

    /// <summary>No valid answer within the fetch's time limits (<see cref="OcspFetchOptions.AttemptTimeout"/>, <see cref="OcspFetchOptions.TotalTimeout"/>).</summary>
    Timeout,

    /// <summary>The responder host's circuit breaker is open after repeated failures: nobody was asked.</summary>
    CircuitOpen,

    /// <summary>The responder redirected outside <see cref="OcspFetchOptions.Redirects"/> (another origin, another scheme, too many hops): not followed.</summary>
    Redirect,

    /// <summary>The certificate has no HTTP OCSP URL in its AIA extension and no responder override: served without a staple (not an outage).</summary>
    NoResponder,

    /// <summary>Fetching is turned off for the certificate by a <c>disabled</c> responder override: served without a staple.</summary>
    Disabled,

    /// <summary>An unexpected error in the refresh itself (for example an exception thrown by a handler the application added to the HTTP client); the message says which.</summary>
    InternalError,

    /// <summary>
    /// The outbound HTTP proxy (<see cref="OcspFetchOptions.Proxy"/>, or the environment's) failed: it could not be
    /// reached, asked for credentials (407), refused the <c>CONNECT</c> tunnel, or said it could not reach the responder
    /// (502, 504). Retried as any other failure; the message names the proxy, never its credentials.
    /// </summary>
    ProxyFailed,
}
