using System.Diagnostics.CodeAnalysis;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Ocsp.Stapling;
using Ocsp.Stapling.AspNetCore;
using Ocsp.Stapling.AspNetCore.Internal;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the OCSP stapling status page.</summary>
public static class OcspStaplingStatusEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps a status page at <paramref name="pattern"/> (GET): every registered certificate with its identity, its staple
    /// (status, thisUpdate, nextUpdate, producedAt, age, where it came from), its refresh (next, consecutive failures, the
    /// last failure) and whether TLS staples it. JSON by default (<c>application/json</c>), an HTML page when the client
    /// prefers <c>text/html</c> (a browser); <c>?format=json</c> or <c>?format=html</c> choose explicitly. It shows what
    /// the server holds, so treat it as an admin endpoint: chain <c>RequireAuthorization(…)</c>, or bind it where only
    /// operators reach it.
    /// </summary>
    /// <param name="endpoints">The route builder.</param>
    /// <param name="pattern">The path, e.g. <c>/ocsp-status</c>.</param>
    /// <returns>A builder for the endpoint (add authorization, host filters, rate limiting).</returns>
    public static IEndpointConventionBuilder MapOcspStaplingStatus(this IEndpointRouteBuilder endpoints, [StringSyntax("Route")] string pattern = "/ocsp-status")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrWhiteSpace(pattern);
        _ = endpoints.ServiceProvider.GetService<OcspCertificateRegistry>()
            ?? throw new InvalidOperationException("MapOcspStaplingStatus needs services.AddOcspStapling().");
        return endpoints.MapGet(pattern, WriteAsync).WithDisplayName("OCSP stapling status");
    }

    private static async Task WriteAsync(HttpContext context)
    {
        OcspStaplingStatusReport report = OcspStaplingStatusEndpoint.Report(context.RequestServices);
        HttpResponse response = context.Response;
        response.Headers.CacheControl = "no-store";
        response.Headers.XContentTypeOptions = "nosniff";
        if (WantsHtml(context.Request))
        {
            response.ContentType = "text/html; charset=utf-8";
            response.Headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";
            await response.WriteAsync(OcspStaplingStatusPage.Render(report), context.RequestAborted).ConfigureAwait(false);
            return;
        }

        response.ContentType = "application/json; charset=utf-8";
        await using var writer = new Utf8JsonWriter(response.Body, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        await report.WriteJsonAsync(writer, context.RequestAborted).ConfigureAwait(false);
        await writer.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }

    private static bool WantsHtml(HttpRequest request)
    {
        string? format = request.Query["format"];
        if (format is not null)
        {
            return string.Equals(format, "html", StringComparison.OrdinalIgnoreCase);
        }

        // A browser lists text/html first; API clients ask for JSON or anything.
        IList<MediaTypeHeaderValue> accept = request.GetTypedHeaders().Accept;
        MediaTypeHeaderValue? html = accept.FirstOrDefault(a => a.MediaType.Equals("text/html", StringComparison.OrdinalIgnoreCase));
        MediaTypeHeaderValue? json = accept.FirstOrDefault(a => a.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase));
        return html is not null && (json is null || (html.Quality ?? 1) > (json.Quality ?? 1));
    }
}
