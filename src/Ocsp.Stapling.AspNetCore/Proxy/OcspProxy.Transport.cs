using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Ocsp.Stapling.Internal;

namespace Ocsp.Stapling.AspNetCore.Internal;

internal sealed partial class OcspProxy
{
    /// <summary>The request of a POST; <see langword="null"/> when its body was refused (the status is set).</summary>
    /// <exception cref="OcspFormatException">The body is not an OCSP request.</exception>
    private async Task<OcspRequest?> ReadPostAsync(HttpContext context) =>
        await ReadBodyAsync(context).ConfigureAwait(false) is { } der ? OcspRequest.Decode(der) : null;

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

        if (request.ContentLength > options.Limits.MaxRequestBodySize)
        {
            context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            return null;
        }

        byte[]? body;
        try
        {
            // With a Content-Length (Kestrel holds the client to it) the body is read into an array of its size; without,
            // in growing chunks up to the limit.
            if (request.ContentLength is long length and > 0)
            {
                body = new byte[length];
                await request.Body.ReadExactlyAsync(body, context.RequestAborted).ConfigureAwait(false);
            }
            else
            {
                body = await OcspHttpEncoding.ReadBodyAsync(request.Body, options.Limits.MaxRequestBodySize, context.RequestAborted).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is BadHttpRequestException or IOException or OperationCanceledException) // EndOfStreamException is an IOException
        {
            // The client's fault (too slow for the minimum data rate, bad chunking, reset, gone): one Debug line, no stack
            // trace, never "an unhandled exception".
            int status = ex is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status400BadRequest;
            Log.ProxyClientFault(logger, LogText.Quote(ex.Message), status);
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

    /// <summary>The raw request path (before any query), as the client sent it: Kestrel decodes <c>%2F</c> in <c>Path</c>, and base64 has '/'.</summary>
    private static string RawPath(HttpContext context)
    {
        string raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? "";
        int query = raw.IndexOf('?', StringComparison.Ordinal);
        string path = query >= 0 ? raw[..query] : raw;

        // Origin form ("/…", the usual case) as is; only the HTTP-proxy form ("http://responder/…") is parsed.
        return !path.StartsWith('/') && Uri.TryCreate(path, UriKind.Absolute, out Uri? absolute) && absolute.Scheme is "http" or "https"
            ? absolute.GetComponents(UriComponents.Path | UriComponents.KeepDelimiter, UriFormat.UriEscaped)
            : path;
    }

    /// <summary>
    /// The request of a GET, taken from the raw request target. In HTTP-proxy form (<c>GET http://responder/path/MFEw…</c>)
    /// the allowed responder's path is stripped; for a fronted responder its public path, and an encoded request longer
    /// than RFC 5019's 255 bytes gets 414 (such a request goes by POST); otherwise the proxy's prefix. A target decoded
    /// before is not decoded again (<see cref="GetRequestMemo"/>). <see langword="null"/> when refused (the status is set).
    /// </summary>
    /// <exception cref="OcspFormatException">The target is not an encoded OCSP request.</exception>
    private OcspRequest? ReadGetRequest(HttpContext context, BackendFront? front)
    {
        string raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? "";
        if (raw.Length > options.Limits.MaxRequestTargetLength)
        {
            context.Response.StatusCode = StatusCodes.Status414UriTooLong;
            return null;
        }

        string path = RawPath(context);
        string stripped;
        if (front is not null)
        {
            stripped = path[..front.PathLength];
            if (path.Length - stripped.Length - 1 > OcspHttpEncoding.MaxGetRequestLength)
            {
                Log.ProxyClientFault(logger, $"a GET request of {path.Length - stripped.Length - 1} encoded bytes, over RFC 5019's {OcspHttpEncoding.MaxGetRequestLength} (larger requests go by POST)", StatusCodes.Status414UriTooLong);
                context.Response.StatusCode = StatusCodes.Status414UriTooLong;
                return null;
            }
        }
        else
        {
            stripped = (context.Request.PathBase + prefix).Value ?? "";
            if (!raw.StartsWith('/') && Uri.TryCreate(raw.Split('?', 2)[0], UriKind.Absolute, out Uri? absolute) && absolute.Scheme is "http" or "https"
                && index.AllowedResponder(absolute.Host, absolute.Port) is { } responder)
            {
                stripped = responder.AbsolutePath.TrimEnd('/');
            }
        }

        ReadOnlySpan<char> encoded = path;
        if (stripped.Length > 0 && path.Length > stripped.Length && path[stripped.Length] == '/' && path.StartsWith(stripped, StringComparison.OrdinalIgnoreCase))
        {
            encoded = encoded[stripped.Length..];
        }

        if (getRequests.TryGet(encoded, out OcspRequest? held))
        {
            return held;
        }

        OcspRequest request = OcspRequest.Decode(OcspHttpEncoding.DecodeGetRequest(encoded));
        getRequests.Add(encoded, request);
        return request;
    }

    /// <summary>
    /// Forwards the request as is (nonce kept) to <paramref name="upstream"/>, or to the backends of
    /// <paramref name="front"/> in their order (a failing one marked and the next tried, all within
    /// <see cref="OcspProxyLimitOptions.UpstreamTimeout"/>), and relays a well-formed OCSP answer, uncached. A redirect is
    /// followed only to an allowed responder (a backend of the front); every failure is answered <c>tryLater</c> with its
    /// reason logged.
    /// </summary>
    private async Task ForwardAsync(HttpContext context, Uri upstream, BackendFront? front, ReadOnlyMemory<byte> der)
    {
        // The client's limits first (a flooding client cannot use up the responder's), then the responder's; no queue.
        using ClientLimits.Lease? client = clientLimits.TryEnter(context.Connection.RemoteIpAddress, out ProxyLimit? limit);
        if (client is not null && !client.TryTakeToken())
        {
            limit = ProxyLimit.ClientRate;
        }

        using IDisposable? lease = limit is null ? forwardLimits.TryAcquire(upstream, out limit) : null;
        if (lease is null)
        {
            await LimitedAsync(context, upstream, limit!.Value).ConfigureAwait(false);
            return;
        }

        using var bound = new CancellationTokenSource(options.Limits.UpstreamTimeout, time);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, bound.Token);
        IReadOnlyList<Uri> responders = front?.Ordered() ?? [upstream];
        Func<Uri, bool> mayFollow = front is null
            ? target => index.AllowedResponder(target.Host, target.Port) is not null
            : target => responders.Any(b => BackendFronts.SameAuthority(b, target));
        byte[]? body = null;
        string failure = "";
        Uri answeredBy = upstream;
        foreach (Uri responder in responders)
        {
            (body, failure) = await ForwardOnceAsync(responder, der, mayFollow, bound, timeout.Token, context.RequestAborted).ConfigureAwait(false);
            if (body is not null)
            {
                front?.Answered(responder);
                answeredBy = responder;
                break;
            }

            front?.Failed(responder, failure);
            if (timeout.IsCancellationRequested)
            {
                break;
            }
        }

        if (body is null)
        {
            Log.ProxyUpstreamFailed(logger, Authority(upstream), failure);
            activity.Failed(failure);
            await WriteUncachedAsync(context, TryLater).ConfigureAwait(false);
            return;
        }

        Log.ProxyForwarded(logger, Authority(answeredBy), body.Length);
        activity.Count(ProxyOutcome.Forwarded);
        await WriteRelayedAsync(context, body).ConfigureAwait(false);
    }

    /// <summary>One forward to one responder: the body of a well-formed OCSP answer, or why there is none.</summary>
    private async Task<(byte[]? Body, string Failure)> ForwardOnceAsync(
        Uri responder, ReadOnlyMemory<byte> der, Func<Uri, bool> mayFollow, CancellationTokenSource bound, CancellationToken timeout, CancellationToken aborted)
    {
        try
        {
            using HttpClient http = httpClients.CreateClient(OcspFetchOptions.HttpClientName);
            (HttpResponseMessage? sent, string? refusal) = await OcspRedirects.SendAsync(
                http, HttpMethod.Post, responder, der, mayFollow, "the allowed responders", timeout).ConfigureAwait(false);
            using HttpResponseMessage? response = sent;
            if (response is not { IsSuccessStatusCode: true })
            {
                return (null, refusal ?? $"HTTP {(int)response!.StatusCode}");
            }

            await using Stream stream = await response.Content.ReadAsStreamAsync(timeout).ConfigureAwait(false);
            byte[]? body = await OcspHttpEncoding.ReadBodyAsync(stream, options.Limits.MaxResponseSize, timeout).ConfigureAwait(false);
            if (body is null)
            {
                return (null, $"response over the {options.Limits.MaxResponseSize}-byte limit");
            }

            OcspResponse.Parse(body); // only a well-formed OCSP response is relayed
            return (body, "");
        }
        catch (OperationCanceledException) when (bound.IsCancellationRequested && !aborted.IsCancellationRequested)
        {
            return (null, $"no answer within {options.Limits.UpstreamTimeout} (Limits.UpstreamTimeout)");
        }
        catch (OcspFormatException)
        {
            return (null, "not an OCSP response");
        }
#pragma warning disable CA1031 // Whatever the upstream does, the client gets tryLater and the log says why.
        catch (Exception ex) when (!aborted.IsCancellationRequested)
#pragma warning restore CA1031
        {
            return (null, $"{ex.GetType().Name}: {OutboundProxy.Scrub(ex.Message)}");
        }
    }

    private static string Authority(Uri uri) => uri.GetLeftPart(UriPartial.Path);
}
