using System.Net;
using System.Net.Http.Headers;

namespace Ocsp.Stapling.Internal;

/// <summary>
/// Sends one OCSP request and follows redirects by hand (shared source, compiled into the core package and the ASP.NET
/// Core package): the HTTP client's own redirects are off, because they go to any http(s) host. A redirect is followed
/// only when its target passes the caller's test (same origin for the provider, an allowed responder for the proxy),
/// with the same method and body, at most <see cref="MaxRedirects"/> times. Anything else ends the request with a reason
/// and no connection to the target: other hosts, other schemes (<c>file:</c>, <c>ftp:</c>, <c>gopher:</c>), a missing
/// or unreadable <c>Location</c>.
/// </summary>
internal static class OcspRedirects
{
    public const int MaxRedirects = 3;

    /// <summary>Sends the request; the response (caller disposes) or why a redirect was not followed.</summary>
    /// <param name="client">The client (its handler must not follow redirects itself).</param>
    /// <param name="method">GET (the request is in <paramref name="target"/>) or POST (the request is <paramref name="body"/>).</param>
    /// <param name="target">The URL to send to.</param>
    /// <param name="body">The POST body (DER), empty for GET.</param>
    /// <param name="mayFollow">Whether a redirect to this absolute http(s) URL may be followed.</param>
    /// <param name="policy">The policy's name, for the refusal message.</param>
    /// <param name="cancellationToken">Cancels the exchange.</param>
    public static async Task<(HttpResponseMessage? Response, string? Refusal)> SendAsync(
        HttpClient client, HttpMethod method, Uri target, ReadOnlyMemory<byte> body, Func<Uri, bool> mayFollow, string policy, CancellationToken cancellationToken)
    {
        Uri current = target;
        for (int hop = 0; ; hop++)
        {
            using HttpRequestMessage message = Create(method, current, body);
            HttpResponseMessage response = await client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (!IsRedirect(response.StatusCode))
            {
                return (response, null);
            }

            string? location = response.Headers.TryGetValues("Location", out IEnumerable<string>? values) ? values.FirstOrDefault() : null;
            int status = (int)response.StatusCode;
            response.Dispose();
            if (hop == MaxRedirects)
            {
                return (null, $"{Describe(target)} redirected more than {MaxRedirects} times; not followed.");
            }

            if (location is null || !Uri.TryCreate(current, location, out Uri? next))
            {
                return (null, $"{Describe(current)} answered HTTP {status} without a usable Location ({Shorten(location)}); not followed.");
            }

            if (next.Scheme != Uri.UriSchemeHttp && next.Scheme != Uri.UriSchemeHttps)
            {
                return (null, $"{Describe(current)} redirected to a {next.Scheme}: URL ({Shorten(location)}); only http(s) is followed, and only {policy}.");
            }

            if (!mayFollow(next))
            {
                return (null, $"{Describe(current)} redirected to {Describe(next)}, outside {policy}; not followed.");
            }

            current = next;
        }
    }

    /// <summary>Whether a redirect from <paramref name="from"/> to <paramref name="to"/> stays on one origin (scheme, host, port).</summary>
    public static bool SameOrigin(Uri from, Uri to) =>
        Uri.Compare(from, to, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0;

    private static bool IsRedirect(HttpStatusCode status) =>
        status is HttpStatusCode.MovedPermanently or HttpStatusCode.Found or HttpStatusCode.SeeOther
            or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect;

    private static HttpRequestMessage Create(HttpMethod method, Uri target, ReadOnlyMemory<byte> body)
    {
        var message = new HttpRequestMessage(method, target);
        if (method == HttpMethod.Post)
        {
            message.Content = new ReadOnlyMemoryContent(body);
            message.Content.Headers.ContentType = new MediaTypeHeaderValue(OcspHttpEncoding.RequestMediaType);
        }

        message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(OcspHttpEncoding.ResponseMediaType));
        return message;
    }

    /// <summary>The scheme, host and port of a URL: what a log needs, without a GET request's base64.</summary>
    private static string Describe(Uri uri) => uri.GetLeftPart(UriPartial.Authority);

    private static string Shorten(string? text) => text is null ? "none" : LogText.Quote(text, 100);
}
