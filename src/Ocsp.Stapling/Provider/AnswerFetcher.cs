using Microsoft.Extensions.Logging;

namespace Ocsp.Stapling.Internal;

/// <summary>
/// The responder's validated answer for a target: the fetcher (<see cref="OcspFetcher"/>) with the validator as its
/// check, the one step every path that asks a responder goes through — a registration's refresh, a one-shot fetch, a
/// certificate learned on demand — so each is counted the same (<c>ocsp.stapling.fetch.duration</c>,
/// <c>ocsp.stapling.fetch.count</c>) and none can throw.
/// </summary>
internal sealed class AnswerFetcher(OcspFetcher fetcher, OcspStaplingMetrics metrics, OcspValidationOptions validation, TimeProvider time, ILogger logger)
{
    /// <summary>
    /// Asks <paramref name="target"/>'s responders for a response that validates for it now. A validated <c>unknown</c>
    /// is a success only with <paramref name="acceptUnknown"/> (a proxy relays it); otherwise the failure
    /// <see cref="OcspFailureReason.CertificateUnknown"/>. Never throws: an unexpected error is an <see cref="OcspFailureReason.InternalError"/>.
    /// </summary>
    public async Task<FetchOutcome> FetchAsync(IFetchTarget target, bool acceptUnknown = false)
    {
        long started = time.GetTimestamp();
        FetchOutcome outcome;
        try
        {
            outcome = await fetcher.FetchAsync(
                target, (body, request, responder) => Check(target.Subject, body, request, responder, acceptUnknown), CancellationToken.None).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // A fetch must never take a refresh, a scheduler or a caller down.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.SchedulerError(logger, ex);
            outcome = FetchOutcome.Fail(OcspFailureReason.InternalError, ex.Message, FailureScope.Request);
        }

        if (!outcome.NothingToAsk)
        {
            metrics.FetchDuration.Record(time.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("outcome", outcome.IsSuccess ? "success" : "failure"));
            Count(outcome);
        }

        return outcome;
    }

    /// <summary>The validation step: the responder's answer must be a valid response for this certificate, for this request, now.</summary>
    private FetchOutcome Check(OcspSubject subject, byte[] body, OcspRequest request, Uri responder, bool acceptUnknown)
    {
        OcspValidationResult result = OcspResponseValidator.Validate(body, subject, time.GetUtcNow(), validation, request.Nonce);
        if (!result.IsValid)
        {
            return FetchOutcome.Rejected(result);
        }

        return result.Staple.Status == OcspCertificateStatus.Unknown && !acceptUnknown
            ? FetchOutcome.Fail(OcspFailureReason.CertificateUnknown, $"{responder} does not know this certificate (status unknown).", FailureScope.Request)
            : FetchOutcome.Success(result.Staple);
    }

    /// <summary>Counts a fetch with bounded tags: outcome, and for a failure its reason (and the validation check a rejected response failed); a relayed unknown counts as the failure it is for stapling.</summary>
    private void Count(FetchOutcome outcome)
    {
        if (outcome.Staple is { Status: not OcspCertificateStatus.Unknown })
        {
            metrics.Fetches.Add(1, new KeyValuePair<string, object?>("outcome", "success"));
        }
        else if (outcome.IsSuccess || outcome.ValidationFailure == OcspValidationFailure.None)
        {
            string reason = outcome.IsSuccess ? nameof(OcspFailureReason.CertificateUnknown) : outcome.Reason.ToString();
            metrics.Fetches.Add(1, new("outcome", "failure"), new("reason", reason));
        }
        else
        {
            metrics.Fetches.Add(1, new("outcome", "failure"), new("reason", outcome.Reason.ToString()), new("validation_failure", outcome.ValidationFailure.ToString()));
        }
    }
}
