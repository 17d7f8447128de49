namespace Ocsp.Stapling.Internal;

/// <summary>What a request for a certificate learned on demand gave.</summary>
internal enum OnDemandAnswerKind
{
    /// <summary>A valid good or revoked answer, held by the certificate's registration.</summary>
    Valid,

    /// <summary>A valid signed <c>unknown</c>, kept until <see cref="OnDemandAnswer.Until"/>.</summary>
    Unknown,

    /// <summary>No valid answer; <see cref="OnDemandAnswer.Failure"/> says why.</summary>
    Failed,

    /// <summary>The responder was not asked: the caller's limit said no (<see cref="OnDemandAnswer.Limit"/>; nothing is recorded).</summary>
    Limited,
}

/// <summary>The answer of one request (or the one held), as every caller of <see cref="OnDemandCertificates"/> reads it.</summary>
internal sealed record OnDemandAnswer(OnDemandAnswerKind Kind, OcspStaple? Response, DateTimeOffset Until, OcspFailure? Failure, string Reason)
{
    /// <summary>Gets the responder whose answer this is, when one was asked.</summary>
    public Uri? AnsweredBy { get; init; }

    /// <summary>Gets the caller's limit that kept the responder from being asked (<see cref="OnDemandAnswerKind.Limited"/>), as its caller named it.</summary>
    public Enum? Limit { get; init; }

    /// <summary>Gets where the answer came from (the responder, the shared store, memory).</summary>
    public OcspStapleSource? Source { get; init; }

    public static OnDemandAnswer Valid(OcspStaple response) => new(OnDemandAnswerKind.Valid, response, response.NextUpdate, null, "");

    public static OnDemandAnswer UnknownUntil(OcspStaple response, DateTimeOffset until) => new(OnDemandAnswerKind.Unknown, response, until, null, "");

    public static OnDemandAnswer Failed(OcspFailure? failure, string reason) => new(OnDemandAnswerKind.Failed, null, default, failure, reason);

    public static OnDemandAnswer Limited(Enum limit) => new(OnDemandAnswerKind.Limited, null, default, null, $"the {limit} limit") { Limit = limit };
}
