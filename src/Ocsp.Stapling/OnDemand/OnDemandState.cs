namespace Ocsp.Stapling.Internal;

/// <summary>
/// Everything that changes about one certificate learned on demand, as one immutable snapshot (as
/// <see cref="RegistrationState"/> is for a registration): replaced whole through <see cref="OnDemandCertificates"/>'s one
/// gate, read without a lock. When it was last used is not state: it changes on every use and is a field of the entry.
/// </summary>
internal sealed record OnDemandState
{
    /// <summary>The state of every new entry.</summary>
    public static readonly OnDemandState New = new();

    /// <summary>Gets where the certificate stands.</summary>
    public OnDemandStatus Status { get; init; } = OnDemandStatus.New;

    /// <summary>Gets the signed <c>unknown</c> answer kept (<see cref="OnDemandStatus.Unknown"/>).</summary>
    public OcspStaple? Unknown { get; init; }

    /// <summary>Gets until when the unknown answer is kept, or when the next request may be made after a failure.</summary>
    public DateTimeOffset Until { get; init; }

    /// <summary>Gets why the last request gave no valid answer (<see cref="OnDemandStatus.Failed"/>).</summary>
    public OcspFailure? Failure { get; init; }

    /// <summary>Gets the instant answers must have been fetched after to count (a recheck); <see cref="DateTimeOffset.MinValue"/> for any.</summary>
    public DateTimeOffset NotBefore { get; init; } = DateTimeOffset.MinValue;

    /// <summary>Gets a value indicating whether it is counted among the unanswered (neither registered nor forgotten).</summary>
    public bool IsUnanswered => Status is OnDemandStatus.New or OnDemandStatus.Unknown or OnDemandStatus.Failed;
}
