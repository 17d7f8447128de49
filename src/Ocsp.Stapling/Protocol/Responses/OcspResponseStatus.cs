namespace Ocsp.Stapling;

/// <summary>
/// The <c>OCSPResponseStatus</c> of an OCSP response (RFC 6960 §4.2.1). The numeric values are the wire values.
/// </summary>
public enum OcspResponseStatus
{
    /// <summary>The response has valid confirmations.</summary>
    Successful = 0,

    /// <summary>The request was not understood by the responder.</summary>
    MalformedRequest = 1,

    /// <summary>The responder reached an inconsistent internal state.</summary>
    InternalError = 2,

    /// <summary>The responder is temporarily unable to answer; try again later.</summary>
    TryLater = 3,

    /// <summary>The responder requires the request to be signed.</summary>
    SigRequired = 5,

    /// <summary>The request is unauthorised (RFC 5019: the responder has no information about this certificate).</summary>
    Unauthorized = 6,
}
