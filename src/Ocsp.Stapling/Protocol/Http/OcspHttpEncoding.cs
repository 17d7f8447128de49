using System.Buffers;
using System.Net.Http.Headers;
using System.Text;

namespace Ocsp.Stapling;

/// <summary>
/// OCSP over HTTP (RFC 6960 Appendix A.1, RFC 5019 §5): GET with the URL-encoded base64 request appended to the
/// responder URL when short enough to be cached by HTTP caches, POST otherwise; and the way back for servers.
/// </summary>
public static class OcspHttpEncoding
{
    /// <summary>The largest URL-encoded request sent by GET (RFC 5019 §5: GET when the encoded request is under 255 bytes).</summary>
    public const int MaxGetRequestLength = 255;

    /// <summary>The media type of an OCSP request body.</summary>
    public const string RequestMediaType = "application/ocsp-request";

    /// <summary>The media type of an OCSP response body.</summary>
    public const string ResponseMediaType = "application/ocsp-response";

    /// <summary>
    /// Reads a whole OCSP body (a request a server receives, or a response a client receives) without buffering more than
    /// <paramref name="maxLength"/> + 1 bytes of a hostile or runaway peer.
    /// </summary>
    /// <param name="stream">The body.</param>
    /// <param name="maxLength">The largest body accepted, in bytes.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The body, or <see langword="null"/> when it is longer than <paramref name="maxLength"/>.</returns>
    internal static async Task<byte[]?> ReadBodyAsync(Stream stream, int maxLength, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfNegative(maxLength);
        byte[] buffer = new byte[Math.Min(maxLength + 1, 4096)]; // an OCSP request is ~100 bytes, a response 1–3 KB; grows as needed
        int length = 0;
        while (true)
        {
            if (length == buffer.Length)
            {
                if (length > maxLength)
                {
                    return null;
                }

                Array.Resize(ref buffer, (int)Math.Min((long)maxLength + 1, (long)buffer.Length * 2));
            }

            int read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return buffer[..length];
            }

            length += read;
            if (length > maxLength)
            {
                return null;
            }
        }
    }

    /// <summary>Encodes a DER request for a GET path segment: base64, then <c>+ / =</c> percent-encoded.</summary>
    /// <param name="request">The DER-encoded request.</param>
    /// <returns>The URL-encoded base64 text.</returns>
    public static string EncodeForGet(ReadOnlySpan<byte> request)
    {
        string base64 = Convert.ToBase64String(request);
        var builder = new StringBuilder(base64.Length + 16);
        foreach (char c in base64)
        {
            _ = c switch
            {
                '+' => builder.Append("%2B"),
                '/' => builder.Append("%2F"),
                '=' => builder.Append("%3D"),
                _ => builder.Append(c),
            };
        }

        return builder.ToString();
    }

    /// <summary>Returns whether a request should go by GET: its URL-encoded form is at most <see cref="MaxGetRequestLength"/> bytes.</summary>
    /// <param name="request">The DER-encoded request.</param>
    /// <returns><see langword="true"/> for GET, <see langword="false"/> for POST.</returns>
    public static bool ShouldUseGet(ReadOnlySpan<byte> request) => EncodeForGet(request).Length <= MaxGetRequestLength;

    /// <summary>Builds the GET URL: the responder URL, one <c>/</c>, and the URL-encoded request.</summary>
    /// <param name="responder">The responder URL, with or without a path and trailing slash.</param>
    /// <param name="request">The DER-encoded request.</param>
    /// <returns>The request URL.</returns>
    public static Uri GetRequestUri(Uri responder, ReadOnlySpan<byte> request)
    {
        ArgumentNullException.ThrowIfNull(responder);
        if (!responder.IsAbsoluteUri)
        {
            throw new ArgumentException("The responder URL must be absolute.", nameof(responder));
        }

        // Built as text: UriBuilder would escape the '%' of the percent-encoded request a second time.
        string basePath = responder.GetLeftPart(UriPartial.Path);
        string separator = basePath.EndsWith('/') ? string.Empty : "/";
        return new Uri(basePath + separator + EncodeForGet(request) + responder.Query, UriKind.Absolute);
    }

    /// <summary>Creates the HTTP request message for <paramref name="request"/>: GET when short enough, POST otherwise.</summary>
    /// <param name="responder">The responder URL.</param>
    /// <param name="request">The DER-encoded request.</param>
    /// <returns>A new message; the caller disposes it.</returns>
    public static HttpRequestMessage CreateHttpRequest(Uri responder, ReadOnlyMemory<byte> request)
    {
        ArgumentNullException.ThrowIfNull(responder);
        HttpRequestMessage message;
        if (ShouldUseGet(request.Span))
        {
            message = new HttpRequestMessage(HttpMethod.Get, GetRequestUri(responder, request.Span));
        }
        else
        {
            message = new HttpRequestMessage(HttpMethod.Post, responder)
            {
                Content = new ReadOnlyMemoryContent(request),
            };
            message.Content.Headers.ContentType = new MediaTypeHeaderValue(RequestMediaType);
        }

        message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(ResponseMediaType));
        return message;
    }

    /// <summary>
    /// Decodes the request part of a GET path (what follows the responder's base path) back to DER.
    /// Tolerant of what real clients send: <c>+ / =</c> escaped or raw, a <c>+</c> turned into a space by a form decoder,
    /// base64url characters, missing padding, a leading slash.
    /// </summary>
    /// <param name="encodedRequest">The path segment, still percent-encoded or already decoded.</param>
    /// <returns>The DER bytes of the request (not yet decoded as ASN.1: use <see cref="OcspRequest.Decode"/>).</returns>
    /// <exception cref="OcspFormatException">The text is not base64 after unescaping, or is empty.</exception>
    public static byte[] DecodeGetRequest(string encodedRequest)
    {
        ArgumentNullException.ThrowIfNull(encodedRequest);
        return DecodeGetRequest(encodedRequest.AsSpan());
    }

    /// <summary>
    /// <see cref="DecodeGetRequest(string)"/> on a span (a proxy's raw request target, no substring made): one pass that
    /// unescapes <c>%XX</c>, maps the form-decoder and base64url characters and drops line breaks, into a stack buffer; the
    /// DER is the only allocation.
    /// </summary>
    internal static byte[] DecodeGetRequest(ReadOnlySpan<char> encodedRequest)
    {
        encodedRequest = encodedRequest.TrimStart('/');
        char[]? rented = null;
        Span<char> text = encodedRequest.Length <= 512 ? stackalloc char[516] : (rented = ArrayPool<char>.Shared.Rent(encodedRequest.Length + 3)); // room for the padding
        try
        {
            int length = 0;
            for (int i = 0; i < encodedRequest.Length; i++)
            {
                char c = encodedRequest[i];
                if (c == '%' && i + 2 < encodedRequest.Length
                    && HexValue(encodedRequest[i + 1]) is int high and >= 0 && HexValue(encodedRequest[i + 2]) is int low and >= 0)
                {
                    c = (char)((high << 4) | low);
                    i += 2;
                }

                switch (c)
                {
                    case ' ' or '-':
                        text[length++] = '+';
                        break;
                    case '_':
                        text[length++] = '/';
                        break;
                    case '\r' or '\n':
                        break;
                    default:
                        text[length++] = c;
                        break;
                }
            }

            ReadOnlySpan<char> trimmed = text[..length].TrimEnd('=');
            if (trimmed.Length == 0)
            {
                throw new OcspFormatException("The GET request path holds no request.");
            }

            if (trimmed.Length % 4 == 1)
            {
                throw new OcspFormatException("The GET request path is not valid base64 (bad length).");
            }

            int padded = trimmed.Length + ((4 - (trimmed.Length % 4)) % 4);
            text[trimmed.Length..padded].Fill('=');
            byte[]? bytesRented = null;
            Span<byte> der = padded <= 512 ? stackalloc byte[384] : (bytesRented = ArrayPool<byte>.Shared.Rent(padded));
            try
            {
                return Convert.TryFromBase64Chars(text[..padded], der, out int written)
                    ? der[..written].ToArray()
                    : throw new OcspFormatException("The GET request path is not valid base64.");
            }
            finally
            {
                if (bytesRented is not null)
                {
                    ArrayPool<byte>.Shared.Return(bytesRented);
                }
            }
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
    }

    private static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };
}
