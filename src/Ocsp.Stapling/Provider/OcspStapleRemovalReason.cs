namespace Ocsp.Stapling;

/// <summary>Why a staple stopped being served.</summary>
public enum OcspStapleRemovalReason
{
    /// <summary>Its <c>nextUpdate</c> passed with no valid replacement: never staple an expired response.</summary>
    Expired,

    /// <summary>It was pruned on request (<see cref="IOcspCertificateRegistry.PruneAsync"/>).</summary>
    Pruned,

    /// <summary>The certificate was unregistered (rotation).</summary>
    Unregistered,
}
