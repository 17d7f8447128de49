namespace Ocsp.Stapling;

/// <summary>Which certificates of a client's chain are checked for revocation (<see cref="OcspClientCertificatePolicy.Scope"/>).</summary>
public enum OcspRevocationScope
{
    /// <summary>Every certificate below the root: the client certificate and each intermediate CA (as .NET's own <c>X509RevocationFlag.ExcludeRoot</c>, the default of certificate authentication).</summary>
    WholeChain = 0,

    /// <summary>The client certificate only (as <c>X509RevocationFlag.EndCertificateOnly</c>).</summary>
    LeafOnly = 1,
}
