using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace Ocsp.Stapling.Internal;

/// <summary>What may name an OCSP responder (an absolute <c>http</c> or <c>https</c> URL, RFC 6960 Appendix A.1), and one shared list per distinct set of responders.</summary>
internal static class Responders
{
    private const int Cap = 4096;
    private static readonly ConcurrentDictionary<string, IReadOnlyList<Uri>> Lists = new(StringComparer.Ordinal);

    /// <summary>Returns whether <paramref name="uri"/> can name an OCSP responder: an absolute http(s) URL.</summary>
    public static bool IsValid([NotNullWhen(true)] Uri? uri) =>
        uri is { IsAbsoluteUri: true } && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);

    /// <summary>Parses <paramref name="value"/> as a responder URL (see <see cref="IsValid"/>).</summary>
    public static bool TryParse([NotNullWhen(true)] string? value, [NotNullWhen(true)] out Uri? uri)
    {
        if (Uri.TryCreate(value, UriKind.Absolute, out Uri? parsed) && IsValid(parsed))
        {
            uri = parsed;
            return true;
        }

        uri = null;
        return false;
    }

    /// <summary>
    /// One list per distinct set of responder URLs: the certificates of a CA name the same responders, and 100,000 copies
    /// of the same <see cref="Uri"/> objects would cost more than the registrations themselves. Bounded: past the cap lists
    /// are kept as they come.
    /// </summary>
    public static IReadOnlyList<Uri> Intern(IReadOnlyList<Uri> uris)
    {
        if (uris.Count == 0)
        {
            return [];
        }

        string key = uris.Count == 1 ? uris[0].OriginalString : string.Join('\n', uris.Select(u => u.OriginalString));
        return Lists.TryGetValue(key, out IReadOnlyList<Uri>? shared) ? shared
            : Lists.Count < Cap ? Lists.GetOrAdd(key, uris)
            : uris;
    }
}
