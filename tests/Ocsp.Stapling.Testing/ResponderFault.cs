namespace Ocsp.Stapling.Testing;

/// <summary>How <see cref="TestOcspResponder"/> misbehaves.</summary>
public enum ResponderFault
{
    /// <summary>Answers correctly.</summary>
    None,

    /// <summary>Drops the connection without an answer.</summary>
    Down,

    /// <summary>HTTP 500 with a text body.</summary>
    Http500,

    /// <summary>HTTP 200 with an HTML page (captive portals, misconfigured CDNs).</summary>
    HtmlBody,

    /// <summary>HTTP 200, application/ocsp-response, random bytes.</summary>
    Garbage,

    /// <summary>A well-formed tryLater response.</summary>
    TryLater,

    /// <summary>A well-formed unauthorized response.</summary>
    Unauthorized,

    /// <summary>A well-formed malformedRequest response.</summary>
    MalformedRequest,

    /// <summary>HTTP 400 Bad Request (a size-limited responder's answer to an over-long serial).</summary>
    Http400,

    /// <summary>Never answers until released with <see cref="TestOcspResponder.ReleaseSlowRequests"/> or the client gives up.</summary>
    Slow,

    /// <summary>A signed response for another serial number.</summary>
    WrongSerial,

    /// <summary>A response signed by a responder of another CA.</summary>
    WrongSigner,

    /// <summary>A signed response whose nextUpdate has passed.</summary>
    Expired,

    /// <summary>A response whose signature does not verify (its last byte flipped: still well-formed DER).</summary>
    BadSignature,

    /// <summary>HTTP 302 to <see cref="TestOcspResponder.RedirectLocation"/> (but under <see cref="TestOcspResponder.MovedPath"/>, a correct answer).</summary>
    Redirect,

    /// <summary>HTTP 200 with a correct response, sent one byte a second (real time) until done or the client gives up.</summary>
    Trickle,

    /// <summary>HTTP 200 announcing a 1 GiB body (<c>Content-Length</c>) and sending zeros until the client gives up.</summary>
    EndlessBody,

    /// <summary>HTTP 200 without <c>Content-Length</c> (chunked), sending zeros until the client gives up.</summary>
    EndlessChunkedBody,

    /// <summary>HTTP 200, <c>Content-Encoding: gzip</c>: 32 MiB of zeros compressed to about 32 KiB (under the 64 KiB cap).</summary>
    GzipBomb,

    /// <summary>A valid, signed response saying the certificate's status is <c>unknown</c> (what a CA's responder says of a serial it never issued).</summary>
    Unknown,
}
