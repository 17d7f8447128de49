using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Ocsp.Stapling.Internal;

/// <summary>
/// What a refresh tells the world: one log line per update or failure (a certificate known by its CertID — a proxy's,
/// a client's — at Debug for routine updates and repeated failures: they may be thousands), the revocation metric and
/// log, and the registry's events (about leaf certificates only).
/// </summary>
internal sealed class RefreshReporter(RegistrationStore store, OcspNotifications events, OcspStaplingMetrics metrics, ILogger logger)
{
    /// <summary>The responder named in logs for an answer taken from the shared store.</summary>
    public const string SharedStoreName = "(written by this or another node)";

    /// <summary>A newer validated response was adopted: the refresh's one line, a revocation's metric and Critical line, the events.</summary>
    public void Updated(Registration registration, OcspStaple staple, OcspStapleSource source, string responder, long durationMs, DateTimeOffset nextRefresh)
    {
        if (registration.IsCertificateId)
        {
            Log.CertificateIdUpdated(logger, registration.DisplayName, staple.Status, source, responder, durationMs, staple.ThisUpdate, staple.NextUpdate, nextRefresh);
        }
        else
        {
            Log.StapleUpdated(logger, registration.DisplayName, staple.Status, source, responder, durationMs, staple.ThisUpdate, staple.NextUpdate, nextRefresh);
        }

        if (staple.Status == OcspCertificateStatus.Revoked)
        {
            metrics.Revocations.Add(1);
            Log.CertificateRevoked(logger, registration.DisplayName, staple.RevocationTime, staple.RevocationReason?.ToString() ?? "unspecified");
        }

        // Registrations by CertID (a proxy's, a client certificate's) raise no events: the registry's events are about leaf certificates.
        if (registration.Certificate is not { } leaf)
        {
            return;
        }

        if (staple.Status == OcspCertificateStatus.Revoked)
        {
            events.Revoked(new OcspCertificateRevokedEventArgs(leaf, staple));
        }

        events.Updated(new OcspStapleUpdatedEventArgs(leaf, staple, source, isServed: ReferenceEquals(registration.State.Served, staple)));
    }

    /// <summary>
    /// A failed attempt recorded in <paramref name="state"/>: a Warning (for a CertID registration, once per reason, its
    /// repeats Debug; a leaf's every failure is a Warning: a server has few, and each matters), and the failed event.
    /// </summary>
    public void Failed(Registration registration, OcspFailure failure, OcspFailure? previous, RegistrationState state, long durationMs)
    {
        OcspStaple? held = state.ValidResponse(failure.At);
        string validUntil = held is not null ? held.NextUpdate.ToString("u", CultureInfo.InvariantCulture) : "(none)";
        if (registration.IsCertificateId && previous is not null && previous.Code == failure.Code)
        {
            Log.FetchFailedAgain(
                logger, registration.DisplayName, failure.Code, state.ConsecutiveFailures, Name(failure.Responder), durationMs, failure.Message.TrimEnd('.'), state.NextRefresh, validUntil);
        }
        else
        {
            Log.FetchFailed(
                logger, registration.DisplayName, failure.Code, state.ConsecutiveFailures, Name(failure.Responder), durationMs, failure.Message.TrimEnd('.'), state.NextRefresh, validUntil);
        }

        if (registration.Certificate is { } leaf)
        {
            events.Failed(new OcspStapleFailedEventArgs(leaf, failure, held));
        }
    }

    /// <summary>Nothing to ask (no OCSP URL, or disabled by override): not an outage; only the event (registration logged it once).</summary>
    public void NothingToAsk(Registration registration, OcspFailure nothing, RegistrationState state, DateTimeOffset now)
    {
        if (registration.Certificate is { } leaf)
        {
            events.Failed(new OcspStapleFailedEventArgs(leaf, nothing, store.Served(state, now)));
        }
    }

    /// <summary>An unexpected error in a refresh: logged with its exception (the refresh records it as <see cref="OcspFailureReason.InternalError"/>).</summary>
    public void Error(Exception exception) => Log.SchedulerError(logger, exception);

    /// <summary>How logs name a responder.</summary>
    public static string Name(Uri? responder) => responder?.AbsoluteUri ?? "(no responder)";
}
