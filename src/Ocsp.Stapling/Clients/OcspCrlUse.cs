namespace Ocsp.Stapling;

/// <summary>When client-certificate checks decide from a CRL (<see cref="OcspClientCertificatePolicy.CrlUse"/>).</summary>
public enum OcspCrlUse
{
    /// <summary>For a certificate that names no OCSP responder but an HTTP CRL distribution point; OCSP for the others.</summary>
    WhenNoResponder = 0,

    /// <summary>As <see cref="WhenNoResponder"/>, and also when the responder gives no valid answer (down, too slow, garbage): the CRL decides instead of the failure mode.</summary>
    Fallback = 1,

    /// <summary>The CRL for every certificate with an HTTP CRL distribution point (OCSP only for those without one).</summary>
    Preferred = 2,

    /// <summary>Never: OCSP only; a certificate without a responder is decided by the failure mode.</summary>
    Never = 3,
}
