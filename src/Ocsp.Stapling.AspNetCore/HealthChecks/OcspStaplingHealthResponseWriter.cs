using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Ocsp.Stapling.AspNetCore.Internal;

namespace Ocsp.Stapling.AspNetCore;

/// <summary>
/// A health check response writer that shows the per-certificate stapling data as JSON:
/// <c>app.MapHealthChecks("/health", new HealthCheckOptions { ResponseWriter = OcspStaplingHealthResponseWriter.WriteAsync })</c>.
/// </summary>
public static class OcspStaplingHealthResponseWriter
{
    /// <summary>
    /// Writes <c>{ "status", "totalDurationMs", "checks": [ { "name", "status", "description", "durationMs", "data" } ],
    /// "ocspStapling": { … } }</c>, where <c>ocspStapling</c> is the status page's document (every certificate's identity,
    /// staple, refresh and health) when <c>AddOcspStapling()</c> is registered, written for loopback callers and for an
    /// endpoint with <c>RequireAuthorization(…)</c> only: a load balancer's probe from elsewhere gets the status and the
    /// checks, not what the server holds. The status code is the health check middleware's (200, or 503 when unhealthy).
    /// </summary>
    /// <param name="context">The request.</param>
    /// <param name="report">The health report.</param>
    /// <returns>A task that completes when the response is written.</returns>
    public static async Task WriteAsync(HttpContext context, HealthReport report)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(report);
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers.XContentTypeOptions = "nosniff"; // the JSON is not escaped for embedding in HTML
        await using var writer = new Utf8JsonWriter(context.Response.Body, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        writer.WriteStartObject();
        writer.WriteString("status", report.Status.ToString());
        writer.WriteNumber("totalDurationMs", Math.Round(report.TotalDuration.TotalMilliseconds, 3));
        writer.WriteStartArray("checks");
        foreach ((string name, HealthReportEntry entry) in report.Entries)
        {
            writer.WriteStartObject();
            writer.WriteString("name", name);
            writer.WriteString("status", entry.Status.ToString());
            if (entry.Description is { } description)
            {
                writer.WriteString("description", description);
            }
            else
            {
                writer.WriteNull("description");
            }

            writer.WriteNumber("durationMs", Math.Round(entry.Duration.TotalMilliseconds, 3));
            writer.WriteStartObject("data");
            foreach ((string key, object value) in entry.Data)
            {
                writer.WriteString(key, Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture));
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        if (context.RequestServices.GetService<OcspCertificateRegistry>() is not null && AdminAccess.IsAllowed(context, AdminAccess.IsLoopback))
        {
            writer.WriteStartObject("ocspStapling");
            await OcspStaplingStatusEndpoint.Report(context.RequestServices).WriteJsonPropertiesAsync(writer, context.RequestAborted).ConfigureAwait(false);
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
        await writer.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }
}
