namespace Ocsp.Stapling.Internal;

/// <summary>
/// Everything that changes about one registration, as one immutable snapshot: the staple held and what handshakes get,
/// where it came from, the failures, the due time, the last prune. A registration holds exactly one; a write replaces it
/// whole (<see cref="Registration.Write{TArg}"/>), so a reader — the handshake, <c>RefreshAsync</c>, the proxy, the status
/// page — always sees the fields of one write, never a mix of two, and takes no lock.
/// </summary>
internal sealed record RegistrationState
{
    /// <summary>The state of every new registration: nothing held, nothing failed, not scheduled.</summary>
    public static readonly RegistrationState Initial = new();

    /// <summary>Gets the latest validated response (may be revoked or expired: readers check).</summary>
    public OcspStaple? Staple { get; init; }

    /// <summary>
    /// Gets what handshakes get: <see cref="Staple"/> when it may be stapled (good, or revoked with <c>StapleRevoked</c>),
    /// cleared by the expiry timer at its nextUpdate. The handshake path reads only this: no clock read.
    /// </summary>
    public OcspStaple? Served { get; init; }

    /// <summary>Gets where <see cref="Staple"/> came from; <see langword="null"/> without one.</summary>
    public OcspStapleSource? Source { get; init; }

    /// <summary>Gets a value indicating whether the expiry of <see cref="Staple"/> has been reported.</summary>
    public bool ExpiryReported { get; init; }

    /// <summary>Gets the number of failed attempts since the last success.</summary>
    public int ConsecutiveFailures { get; init; }

    /// <summary>Gets the last failure, until an attempt succeeds.</summary>
    public OcspFailure? LastFailure { get; init; }

    /// <summary>Gets when the scheduler refreshes it next; <see cref="DateTimeOffset.MaxValue"/> for never.</summary>
    public DateTimeOffset NextRefresh { get; init; } = DateTimeOffset.MaxValue;

    /// <summary>Gets when the last prune asked for a refetch: prunes are rate-limited per certificate.</summary>
    public DateTimeOffset? LastPruneAt { get; init; }

    /// <summary>Gets the index of the responder URL that answered last; it is asked first next time.</summary>
    public int PreferredResponder { get; init; }

    /// <summary>Gets a value indicating whether the registration was removed: nothing is served or scheduled for it any more.</summary>
    public bool Removed { get; init; }

    /// <summary>Gets the number of writes before this one: each write of a registration has the next number (set by <see cref="Registration.Write{TArg}"/>).</summary>
    public long Version { get; init; }

    /// <summary>The held response when valid at <paramref name="now"/>, whatever its status.</summary>
    public OcspStaple? ValidResponse(DateTimeOffset now) => Staple is { } staple && staple.IsValidAt(now) ? staple : null;

    /// <summary>
    /// Whether <paramref name="now"/> is inside the failure back-off: the last attempt failed and its retry is not due.
    /// Callers asking for a refresh then get what is held, so that no caller can turn an outage into a request storm.
    /// </summary>
    public bool InBackoff(DateTimeOffset now) => ConsecutiveFailures > 0 && now < NextRefresh;

}
