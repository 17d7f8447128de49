using System.Numerics;

namespace Ocsp.Stapling;

/// <summary>A CRL held for client-certificate checks: whose, from where, which, and how it stands.</summary>
public sealed class OcspCrlState
{
    internal OcspCrlState(string issuer, Uri url, BigInteger? number, DateTimeOffset thisUpdate, DateTimeOffset nextUpdate, int entries, DateTimeOffset heldSince, string? lastFailure)
    {
        Issuer = issuer;
        Url = url;
        Number = number;
        ThisUpdate = thisUpdate;
        NextUpdate = nextUpdate;
        Entries = entries;
        HeldSince = heldSince;
        LastFailure = lastFailure;
    }

    /// <summary>Gets the CA's subject (the CRL's issuer).</summary>
    public string Issuer { get; }

    /// <summary>Gets the distribution point the CRL came from.</summary>
    public Uri Url { get; }

    /// <summary>Gets the CRL number, when the CRL has one.</summary>
    public BigInteger? Number { get; }

    /// <summary>Gets the CRL's thisUpdate.</summary>
    public DateTimeOffset ThisUpdate { get; }

    /// <summary>Gets the CRL's nextUpdate: after it, the CRL decides nothing (no answer, by the policy's failure mode).</summary>
    public DateTimeOffset NextUpdate { get; }

    /// <summary>Gets the number of serial numbers it lists.</summary>
    public int Entries { get; }

    /// <summary>Gets when this server took it (fetched, or read from the shared store).</summary>
    public DateTimeOffset HeldSince { get; }

    /// <summary>Gets why the last attempt at a newer one failed, or <see langword="null"/>.</summary>
    public string? LastFailure { get; }
}
