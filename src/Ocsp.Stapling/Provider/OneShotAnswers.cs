using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace Ocsp.Stapling.Internal;

/// <summary>
/// Answers for certificates that are not registered: a one-shot staple (<see cref="IOcspResponseProvider.GetStapleAsync"/>
/// for an unregistered certificate), and the one answer a certificate learned on demand gets before it may become a
/// registration. Nothing is kept in memory or scheduled here.
/// </summary>
internal sealed class OneShotAnswers(
    RegistrationStore store, SharedStapleCache shared, AnswerFetcher answers, OcspFetchOptions fetch, TimeProvider time, ILogger logger)
{
    private readonly SingleFlight<string, OcspRefreshResult> _flights = new(StringComparer.Ordinal);

    /// <summary>
    /// A staple for a certificate that is not registered: the shared cache's, else the responder's (written back to the
    /// shared cache). Concurrent calls for one certificate share a run. Never throws.
    /// </summary>
    public Task<OcspRefreshResult> FetchOnceAsync(X509Certificate2 certificate, X509Certificate2 issuer)
    {
        var transient = Registration.Create(certificate, issuer, fetch);
        return _flights.Run(transient.CacheId.CacheKey, (Answers: this, Target: transient), static (_, c, _) => c.Answers.FetchOnceCoreAsync(c.Target)).Result;
    }

    /// <summary>
    /// The shared store's response for a certificate known only by its CertID (<paramref name="target"/>, not registered):
    /// valid now and good or revoked, re-validated as every read is.
    /// </summary>
    public Task<OcspStaple?> ReadSharedAsync(Registration target) => shared.ReadAsync(target, time.GetUtcNow(), CancellationToken.None);

    /// <summary>Writes <paramref name="staple"/> to the shared store for <paramref name="registration"/> (best effort, bounded).</summary>
    public Task WriteSharedAsync(Registration registration, OcspStaple staple) => shared.WriteAsync(registration, staple);

    /// <summary>
    /// One validated answer of the responder for a certificate known only by its CertID (<paramref name="target"/>, not
    /// registered), whatever its status: an <c>unknown</c> answer is valid, and a proxy relays it (its
    /// <see cref="OcspRefreshResult.Failure"/> says <see cref="OcspFailureReason.CertificateUnknown"/>). Never throws.
    /// </summary>
    public async Task<OcspRefreshResult> AskOnceAsync(Registration target)
    {
        FetchOutcome outcome = await answers.FetchAsync(target, acceptUnknown: true).ConfigureAwait(false);
        DateTimeOffset now = time.GetUtcNow();
        if (outcome.Staple is not { } staple)
        {
            return new OcspRefreshResult(null, false, OcspStapleSource.Responder, outcome.ToFailure(now)); // nobody answered: no AnsweredBy
        }

        OcspFailure? failure = staple.Status == OcspCertificateStatus.Unknown
            ? new OcspFailure(OcspFailureReason.CertificateUnknown, $"{RefreshReporter.Name(outcome.Responder)} does not know this certificate (status unknown).", OcspValidationFailure.None, now, outcome.Responder)
            : null;
        return new OcspRefreshResult(staple, store.MayServe(staple), OcspStapleSource.Responder, failure) { AnsweredBy = outcome.Responder };
    }

    private async Task<OcspRefreshResult> FetchOnceCoreAsync(Registration transient)
    {
        DateTimeOffset now = time.GetUtcNow();
        long started = time.GetTimestamp();
        if (await shared.ReadAsync(transient, now, CancellationToken.None).ConfigureAwait(false) is { } cached)
        {
            return new OcspRefreshResult(cached, store.MayServe(cached), OcspStapleSource.SharedStore, null);
        }

        FetchOutcome outcome = await answers.FetchAsync(transient).ConfigureAwait(false);
        if (outcome.Staple is { } staple)
        {
            await shared.WriteAsync(transient, staple).ConfigureAwait(false);
            return new OcspRefreshResult(staple, store.MayServe(staple), OcspStapleSource.Responder, null);
        }

        OcspFailure failure = outcome.ToFailure(time.GetUtcNow());
        Log.FetchFailed(
            logger, transient.DisplayName, failure.Code, 1, RefreshReporter.Name(outcome.Responder), (long)time.GetElapsedTime(started).TotalMilliseconds, outcome.Message.TrimEnd('.'), now, "(none)");
        return new OcspRefreshResult(null, false, OcspStapleSource.Responder, failure);
    }
}
