namespace Ocsp.Stapling;

/// <summary>Why an OCSP response was rejected. Every rejection carries exactly one of these codes.</summary>
public enum OcspValidationFailure
{
    /// <summary>The response was accepted.</summary>
    None = 0,

    /// <summary>The response body is larger than <see cref="OcspValidationOptions.MaxResponseSize"/>.</summary>
    ResponseTooLarge,

    /// <summary>The bytes are not a well-formed DER OCSP response (HTML pages and garbage land here).</summary>
    MalformedResponse,

    /// <summary>The response status is not <c>successful</c> (for example <c>tryLater</c> or <c>unauthorized</c>).</summary>
    UnsuccessfulStatus,

    /// <summary>The response is successful but not of the basic type (<c>id-pkix-ocsp-basic</c>).</summary>
    UnsupportedResponseType,

    /// <summary>No single response matches our CertID: wrong serial, wrong issuer name or key hash.</summary>
    CertificateIdMismatch,

    /// <summary>The signature does not verify with the key of the issuer or of the delegated responder named by the response.</summary>
    BadSignature,

    /// <summary>The signer is neither the issuer nor a delegated responder issued by the issuer with <c>id-kp-OCSPSigning</c>.</summary>
    UnauthorizedSigner,

    /// <summary>The delegated responder's certificate was not valid when the response was produced, or is not valid now.</summary>
    ResponderCertificateExpired,

    /// <summary><c>thisUpdate</c> is further in the future than <see cref="OcspValidationOptions.MaxClockSkew"/> allows.</summary>
    ThisUpdateInFuture,

    /// <summary><c>nextUpdate</c> (or the lifetime given to a response without one) has passed.</summary>
    Expired,

    /// <summary>The response has no <c>nextUpdate</c> and <see cref="OcspValidationOptions.MissingNextUpdateLifetime"/> is zero.</summary>
    MissingNextUpdate,

    /// <summary>A nonce was sent and the response does not echo it.</summary>
    NonceMismatch,
}
