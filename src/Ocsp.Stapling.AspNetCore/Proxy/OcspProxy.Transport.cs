using System.Net.Http.Headers;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

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

        byte[]? body = await OcspHttpEncoding.ReadBodyAsync(request.Body, options.MaxRequestBodySize, context.RequestAborted).ConfigureAwait(false);
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

    /// <summary>Forwards the request as is (nonce kept) to <paramref name="upstream"/> and relays a well-formed OCSP answer, uncached.</summary>
    private async Task ForwardAsync(HttpContext context, Uri upstream, byte[] der)
    {
        using var bound = new CancellationTokenSource(options.UpstreamTimeout, time);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, bound.Token);
        byte[]? body = null;
        string failure;
        try
        {
            using var content = new ByteArrayContent(der);
            content.Headers.ContentType = new MediaTypeHeaderValue(OcspHttpEncoding.RequestMediaType);
            using var message = new HttpRequestMessage(HttpMethod.Post, upstream) { Content = content };
            using HttpClient client = httpClients.CreateClient(OcspFetchOptions.HttpClientName);
            using HttpResponseMessage response = await client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            failure = $"HTTP {(int)response.StatusCode}";
            if (response.IsSuccessStatusCode)
            {
                await using Stream stream = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
                body = await OcspHttpEncoding.ReadBodyAsync(stream, options.MaxResponseSize, timeout.Token).ConfigureAwait(false);
                failure = body is null ? "response over the size limit" : "not an OCSP response";
                if (body is not null)
                {
                    OcspResponse.Parse(body); // only a well-formed OCSP response is relayed
                    failure = "";
                }
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or OcspFormatException && !context.RequestAborted.IsCancellationRequested)
        {
            failure = ex.Message;
            body = null;
        }

        if (body is null || failure.Length > 0)
        {
            Log.ProxyUpstreamFailed(logger, upstream.ToString(), failure);
            await WriteUncachedAsync(context, TryLater).ConfigureAwait(false);
            return;
        }

        Log.ProxyForwarded(logger, upstream.ToString(), body.Length);
        await WriteUncachedAsync(context, body).ConfigureAwait(false);
    }

}

/// <summary>Endpoint metadata: the literal prefix of a proxy route, stripped from the raw target of a GET.</summary>
internal sealed record OcspProxyPrefix(PathString Value);
