using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Ocsp.Stapling.Internal;

namespace Ocsp.Stapling.AspNetCore.Internal;

internal sealed partial class OcspProxy
{
    /// <summary>Reads a POST body up to the limit (413 beyond it; 415 for another media type).</summary>
    private async Task<byte[]?> ReadBodyAsync(HttpContext context)
    {
        HttpRequest request = context.Request;
        if (request.ContentType is { } contentType
            && !contentType.StartsWith(OcspHttpEncoding.RequestMediaType, StringComparison.OrdinalIgnoreCase))
        {
            context.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
            return null;
        }

        if (request.ContentLength > options.MaxRequestBodySize)
        {
            context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            return null;
        }

        byte[]? body;
        try
        {
            body = await OcspHttpEncoding.ReadBodyAsync(request.Body, options.MaxRequestBodySize, context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is BadHttpRequestException or IOException or OperationCanceledException)
        {
            // The client's fault (too slow for the minimum data rate, bad chunking, reset, gone): one Debug line, no stack
            // trace, never "an unhandled exception".
            int status = ex is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status400BadRequest;
            Log.ProxyClientFault(logger, ex.Message, status);
            if (!context.Response.HasStarted)
            {
                context.Response.StatusCode = status;
            }

            return null;
        }

        if (body is null)
        {
            context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
        }

        return body;
    }

    /// <summary>
    /// The request of a GET, taken from the raw request target: Kestrel decodes <c>%2F</c> in <c>Path</c>, and base64 has '/'.
    /// In HTTP-proxy form (<c>GET http://responder/path/MFEw…</c>) the allowed responder's path is stripped; otherwise the
    /// endpoint's prefix. Undecodable text yields an empty request, answered as malformed.
    /// </summary>
    private byte[]? ReadGetTarget(HttpContext context)
    {
        string raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? "";
        if (raw.Length > options.MaxRequestTargetLength)
        {
            context.Response.StatusCode = StatusCodes.Status414UriTooLong;
            return null;
        }

        int query = raw.IndexOf('?', StringComparison.Ordinal);
        string path = query >= 0 ? raw[..query] : raw;
        string prefix = (context.Request.PathBase + EndpointPrefix(context)).Value ?? "";
        if (Uri.TryCreate(path, UriKind.Absolute, out Uri? absolute) && absolute.Scheme is "http" or "https")
        {
            path = absolute.GetComponents(UriComponents.Path | UriComponents.KeepDelimiter, UriFormat.UriEscaped);
            if (index.AllowedResponder(absolute.Host, absolute.Port) is { } responder)
            {
                prefix = responder.AbsolutePath.TrimEnd('/');
            }
        }

        if (prefix.Length > 0 && path.StartsWith(prefix + "/", StringComparison.OrdinalIgnoreCase))
        {
            path = path[prefix.Length..];
        }

        try
        {
            return OcspHttpEncoding.DecodeGetRequest(path);
        }
        catch (OcspFormatException)
        {
            return [];
        }
    }

    /// <summary>The literal part of the endpoint's route pattern, before the catch-all parameter.</summary>
    private static PathString EndpointPrefix(HttpContext context) =>
        context.GetEndpoint()?.Metadata.GetMetadata<OcspProxyPrefix>() is { } prefix ? prefix.Value : PathString.Empty;

    /// <summary>
    /// Forwards the request as is (nonce kept) to <paramref name="upstream"/> and relays a well-formed OCSP answer,
    /// uncached. A redirect is followed only to an allowed responder; every failure is answered <c>tryLater</c> with its reason logged.
    /// </summary>
    private async Task ForwardAsync(HttpContext context, Uri upstream, byte[] der)
    {
        // The client's limits first (a flooding client cannot use up the responder's), then the responder's; no queue.
        using ClientLimits.Lease? client = clientLimits.TryEnter(context.Connection.RemoteIpAddress, out string? limit);
        if (client is not null && !client.TryTakeToken())
        {
            limit = "client_rate";
        }

        using IDisposable? lease = limit is null ? forwardLimits.TryAcquire(upstream, out limit) : null;
        if (lease is null)
        {
            await LimitedAsync(context, upstream, limit!).ConfigureAwait(false);
            return;
        }

        using var bound = new CancellationTokenSource(options.UpstreamTimeout, time);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, bound.Token);
        byte[]? body = null;
        string failure;
        try
        {
            using HttpClient http = httpClients.CreateClient(OcspFetchOptions.HttpClientName);
            (HttpResponseMessage? sent, string? refusal) = await OcspRedirects.SendAsync(
                http,
                HttpMethod.Post,
                upstream,
                der,
                target => index.AllowedResponder(target.Host, target.Port) is not null,
                "the allowed responders",
                timeout.Token).ConfigureAwait(false);
            using HttpResponseMessage? response = sent;
            failure = refusal ?? $"HTTP {(int)response!.StatusCode}";
            if (response is { IsSuccessStatusCode: true })
            {
                await using Stream stream = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
                body = await OcspHttpEncoding.ReadBodyAsync(stream, options.MaxResponseSize, timeout.Token).ConfigureAwait(false);
                failure = body is null ? $"response over the {options.MaxResponseSize}-byte limit" : "not an OCSP response";
                if (body is not null)
                {
                    OcspResponse.Parse(body); // only a well-formed OCSP response is relayed
                    failure = "";
                }
            }
        }
        catch (OperationCanceledException) when (bound.IsCancellationRequested && !context.RequestAborted.IsCancellationRequested)
        {
            failure = $"no answer within {options.UpstreamTimeout} (UpstreamTimeout)";
        }
#pragma warning disable CA1031 // Whatever the upstream does, the client gets tryLater and the log says why.
        catch (Exception ex) when (!context.RequestAborted.IsCancellationRequested)
#pragma warning restore CA1031
        {
            failure = $"{ex.GetType().Name}: {OutboundProxy.Scrub(ex.Message)}";
        }

        if (body is null || failure.Length > 0)
        {
            Log.ProxyUpstreamFailed(logger, Authority(upstream), failure);
            activity.Failed(failure);
            await WriteUncachedAsync(context, TryLater).ConfigureAwait(false);
            return;
        }

        Log.ProxyForwarded(logger, Authority(upstream), body.Length);
        activity.Count(ProxyOutcome.Forwarded);
        await WriteRelayedAsync(context, body).ConfigureAwait(false);
    }

    private static string Authority(Uri uri) => uri.GetLeftPart(UriPartial.Path);
}

/// <summary>Endpoint metadata: the literal prefix of a proxy route, stripped from the raw target of a GET.</summary>
internal sealed record OcspProxyPrefix(PathString Value);
