namespace Ocsp.Stapling.Internal;

/// <summary>Where a certificate learned on demand stands.</summary>
internal enum OnDemandStatus
{
    /// <summary>Asked about (or about to be), never answered: counted among the unanswered.</summary>
    New,

    /// <summary>Its responder or the shared store vouched for it (good or revoked): a registration of the provider, refreshed, counted in its group's cap.</summary>
    Registered,

    /// <summary>Its responder said <c>unknown</c>: the signed answer is kept until <see cref="OnDemandState.Until"/>, never refreshed; counted among the unanswered.</summary>
    Unknown,

    /// <summary>No valid answer: nothing is asked again before <see cref="OnDemandState.Until"/>; counted among the unanswered.</summary>
    Failed,

    /// <summary>Forgotten (idle, evicted, or dropped with the unanswered): no longer kept; a later request makes a new entry.</summary>
    Forgotten,
}
