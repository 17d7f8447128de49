namespace Ocsp.Stapling;

/// <summary>Why a staple stopped being served.</summary>
public enum OcspStapleRemovalReason
{
    /// <summary>Its <c>nextUpdate</c> passed with no valid replacement: never staple an expired response.</summary>
    Expired,

    /// <summary>
    /// It was pruned on request. No longer raised: <see cref="IOcspCertificateRegistry.PruneAsync"/> now keeps the held
    /// response until a newer one replaces it (a prune must not cause an outage).
    /// </summary>
    Pruned,

    /// <summary>The certificate was unregistered (rotation).</summary>
    Unregistered,
}
