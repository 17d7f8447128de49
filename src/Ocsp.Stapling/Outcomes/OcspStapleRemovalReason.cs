namespace Ocsp.Stapling;

/// <summary>Why a staple stopped being served (<see cref="OcspStapleRemovedEventArgs.Reason"/>).</summary>
public enum OcspStapleRemovalReason
{
    /// <summary>Its <c>nextUpdate</c> passed with no valid replacement: an expired response is never stapled.</summary>
    Expired,

    /// <summary>The certificate was unregistered (a rotation, or a caching proxy forgetting a certificate).</summary>
    Unregistered,
}
