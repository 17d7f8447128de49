using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Ocsp.Stapling.AspNetCore.Internal;

/// <summary>One certificate's stapling health, as the health check, its response writer and the status page judge it.</summary>
internal static class OcspCertificateHealth
{
    /// <summary>The name the health check is registered under by default (its options are named so).</summary>
    public const string DefaultCheckName = "ocsp-stapling";

    public static (HealthStatus Status, string Summary) Assess(OcspCertificateState state, DateTimeOffset now, TimeSpan degradedRemainingValidity, HealthStatus failure)
    {
        string lastFailure = state.LastFailure is not { } last
            ? string.Empty
            : string.Create(CultureInfo.InvariantCulture, $"; last failure {last.Code} at {last.At:u}: {last.Message}");
        if (!state.HasResponder)
        {
            return (HealthStatus.Healthy, "no OCSP responder: served without a staple");
        }

        OcspStaple? staple = state.Staple is { } held && held.IsValidAt(now) ? held : null;
        if (staple is null)
        {
            return state.IsMustStaple
                ? (failure, "MUST-STAPLE certificate without a valid staple" + lastFailure)
                : (HealthStatus.Degraded, "no valid staple" + lastFailure);
        }

        TimeSpan remaining = staple.NextUpdate - now;
        string summary = string.Create(
            CultureInfo.InvariantCulture,
            $"{staple.Status}, age {Format(now - staple.ThisUpdate)}, nextUpdate in {Format(remaining)} ({staple.NextUpdate:u}){lastFailure}");
        if (staple.Status == OcspCertificateStatus.Revoked)
        {
            return (failure, "REVOKED: " + summary);
        }

        return remaining < degradedRemainingValidity ? (HealthStatus.Degraded, "expiring soon: " + summary) : (HealthStatus.Healthy, summary);
    }

    /// <summary>A span as operators read it: "3d4h", "5h12m".</summary>
    public static string Format(TimeSpan span) =>
        span.TotalDays >= 1
            ? string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalDays}d{span.Hours}h")
            : string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalHours}h{span.Minutes}m");
}
