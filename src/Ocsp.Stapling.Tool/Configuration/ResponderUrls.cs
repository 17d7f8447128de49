using Ocsp.Stapling.Internal;

namespace Ocsp.Stapling.Tool;

internal static class ResponderUrls
{
    /// <summary>An absolute http(s) responder URL, or a usage error naming where it came from (<paramref name="source"/>).</summary>
    public static Uri Parse(string value, string source) =>
        Responders.TryParse(value, out Uri? uri)
            ? uri
            : throw new ToolException(ExitCodes.Usage, $"{source} '{value}' is not an absolute http(s) URL.");
}
