namespace Ocsp.Stapling.Internal;

/// <summary>The bounds of one <see cref="OnDemandCertificates"/>, from its user's options (the proxy's, the client certificates').</summary>
/// <param name="IdleTime">A certificate not used for this long is forgotten.</param>
/// <param name="UnknownCacheTime">How long a signed <c>unknown</c> is kept (at most until its nextUpdate).</param>
/// <param name="FailureRetryTime">How long after a request with no valid answer the next one may be made.</param>
/// <param name="MaxUnanswered">The most entries kept that were never vouched for (new, unknown, failed).</param>
internal sealed record OnDemandSettings(TimeSpan IdleTime, TimeSpan UnknownCacheTime, TimeSpan FailureRetryTime, int MaxUnanswered);

/// <summary>What a user of <see cref="OnDemandCertificates"/> logs, in its own words and event ids.</summary>
internal sealed class OnDemandEvents
{
    /// <summary>Gets or sets what happens when a certificate becomes a registration.</summary>
    public Action<OnDemandEntry, OnDemandAnswer>? Registered { get; init; }

    /// <summary>Gets or sets what happens when a registration is evicted at its group's cap.</summary>
    public Action<OnDemandEntry>? Evicted { get; init; }

    /// <summary>Gets or sets what happens when a group reaches its cap (once, until it is under it again).</summary>
    public Action<OnDemandGroup>? CapReached { get; init; }

    /// <summary>Gets or sets what happens after a sweep forgot certificates idle for the idle time (their count).</summary>
    public Action<int>? Forgotten { get; init; }
}
