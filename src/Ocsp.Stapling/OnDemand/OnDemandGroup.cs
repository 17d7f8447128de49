namespace Ocsp.Stapling.Internal;

/// <summary>
/// The certificates learned on demand whose registrations share one cap: one known CA of a proxy, or all client
/// certificates. At the cap, a new registration evicts the group's least recently used one. Counts are written under
/// <see cref="OnDemandCertificates"/>' lock only.
/// </summary>
internal sealed class OnDemandGroup(string name, int cap)
{
    /// <summary>Gets the group's name in logs (a CA's subject, "client certificates").</summary>
    public string Name { get; } = name;

    /// <summary>Gets the most registrations it keeps.</summary>
    public int Cap { get; } = cap;

    /// <summary>Gets the registrations it counts now.</summary>
    public int Count { get; internal set; }

    /// <summary>Gets or sets a value indicating whether reaching the cap was logged since the group was last under it.</summary>
    internal bool CapLogged { get; set; }
}
