namespace Ocsp.Stapling;

/// <summary>The keys under which Ocsp.Stapling resolves keyed services.</summary>
public static class OcspStaplingServiceKeys
{
    /// <summary>
    /// The key of the shared staple store (L2), a keyed <see cref="Microsoft.Extensions.Caching.Distributed.IDistributedCache"/>.
    /// Every backend is chosen this one way: <c>UseFileSystemCache()</c> (the default), <c>UseDistributedCache()</c>,
    /// <c>UseMemoryOnly()</c>, <c>UsePostgreSqlCache()</c> replace the service under this key, and an application may
    /// register its own under it (after <c>AddOcspStapling()</c>, replacing, or before, taking precedence).
    /// </summary>
    public const string SharedCache = "Ocsp.Stapling.SharedCache";
}
