namespace Ocsp.Stapling;

/// <summary>What a client-certificate decision rests on.</summary>
public enum OcspRevocationSource
{
    /// <summary>Nothing: there was no valid answer (the failure mode decided), or no check was made.</summary>
    None = 0,

    /// <summary>A validated OCSP response (<see cref="OcspClientCertificateDecision.Response"/>).</summary>
    Ocsp = 1,

    /// <summary>A validated CRL of the certificate's CA (<see cref="OcspClientCertificateDecision.Crl"/>).</summary>
    Crl = 2,
}
