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
    /// the server holds, so it answers loopback callers only unless you say otherwise: chain <c>RequireAuthorization(…)</c>
    /// (whoever passes the policy may read it) or set <see cref="OcspStaplingStatusOptions.AccessPolicy"/>. Others get 403.
    /// </summary>
    /// <param name="endpoints">The route builder.</param>
    /// <param name="pattern">The path, e.g. <c>/ocsp-status</c>.</param>
    /// <param name="configure">Sets who may read the page.</param>
    /// <returns>A builder for the endpoint (add authorization, host filters, rate limiting).</returns>
    public static IEndpointConventionBuilder MapOcspStaplingStatus(
        this IEndpointRouteBuilder endpoints, [StringSyntax("Route")] string pattern = "/ocsp-status", Action<OcspStaplingStatusOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrWhiteSpace(pattern);
        _ = endpoints.ServiceProvider.GetService<OcspCertificateRegistry>()
            ?? throw new InvalidOperationException("MapOcspStaplingStatus needs services.AddOcspStapling().");
        var options = new OcspStaplingStatusOptions();
        configure?.Invoke(options);
        OptionsCheck.Validated(new OcspStaplingStatusOptionsValidator(), options);
        Func<HttpContext, bool> policy = options.AccessPolicy;
        return endpoints.MapGet(pattern, context => WriteAsync(context, policy)).WithDisplayName("OCSP stapling status");
    }

    private static async Task WriteAsync(HttpContext context, Func<HttpContext, bool> policy)
    {
        if (!AdminAccess.IsAllowed(context, policy))
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            context.Response.Headers.CacheControl = "no-store";
            await context.Response.WriteAsync(
                "The OCSP stapling status page answers loopback callers only: chain RequireAuthorization(...) to MapOcspStaplingStatus, or set OcspStaplingStatusOptions.AccessPolicy.\n",
                context.RequestAborted).ConfigureAwait(false);
            return;
        }

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
