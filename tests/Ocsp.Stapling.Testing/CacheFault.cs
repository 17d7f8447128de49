namespace Ocsp.Stapling.Testing;

/// <summary>How <see cref="FaultyDistributedCache"/> misbehaves.</summary>
public enum CacheFault
{
    None,

    /// <summary>Every call throws.</summary>
    Throw,

    /// <summary>Every call hangs, ignoring its cancellation token, until <see cref="FaultyDistributedCache.ReleaseHung"/>.</summary>
    Hang,

    /// <summary>Writes are accepted and dropped.</summary>
    LoseWrites,
}
