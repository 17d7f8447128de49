namespace Ocsp.Stapling;

/// <summary>Why a certificate's TLS context carries no staple ever (<see cref="OcspStapledCertificate.NotStaplingReason"/>, <see cref="OcspStaplingContexts.NotStaplingReason"/>); the log says it in words.</summary>
public enum OcspNotStaplingReason
{
    /// <summary>It staples.</summary>
    None = 0,

    /// <summary>.NET staples only where it terminates TLS with OpenSSL (Linux, FreeBSD): not on Windows or macOS.</summary>
    UnsupportedPlatform = 1,

    /// <summary>This runtime's TLS context is not what the library hooks (a field is missing, has another type, or was refused): TLS is served without stapling.</summary>
    UnsupportedRuntime = 2,

    /// <summary>The certificate's issuer is neither in the chain given nor in the certificate store: no request can be made for it.</summary>
    IssuerNotFound = 3,
}
