using System.Globalization;
using System.Text;

namespace Ocsp.Stapling.Internal;

/// <summary>
/// Text from outside (a responder's reason phrase, a client's <c>Host</c> header, an exception message carrying bytes a
/// peer sent) made safe for a log line: control characters, line and paragraph separators and bidirectional overrides
/// escaped (no forged lines, no terminal escapes, no text shown reversed), and the length capped.
/// </summary>
internal static class LogText
{
    /// <summary>The most characters of outside text a log line carries.</summary>
    public const int MaxLength = 256;

    // Not control characters to char.IsControl, yet they break a line or turn text around on a terminal or a log viewer.
    private static readonly System.Buffers.SearchValues<char> Hidden = System.Buffers.SearchValues.Create(
        "\u2028\u2029\u200E\u200F\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069");

    /// <summary><paramref name="text"/> escaped and capped; the same string when there is nothing to escape.</summary>
    public static string Quote(string? text, int maxLength = MaxLength)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }

        if (text.Length <= maxLength && !text.AsSpan().ContainsAnyInRange('\u0000', '\u001F') && !text.AsSpan().ContainsAnyInRange('\u007F', '\u009F') && !text.AsSpan().ContainsAny(Hidden))
        {
            return text;
        }

        var quoted = new StringBuilder(Math.Min(text.Length, maxLength) + 16);
        int i = 0;
        for (; i < text.Length && quoted.Length < maxLength; i++)
        {
            char c = text[i];
            if (char.IsControl(c) || Hidden.Contains(c))
            {
                bool narrow = c <= '\u00FF';
                quoted.Append(narrow ? "\\x" : "\\u").Append(((int)c).ToString(narrow ? "X2" : "X4", CultureInfo.InvariantCulture));
            }
            else
            {
                quoted.Append(c);
            }
        }

        if (i < text.Length)
        {
            quoted.Append(CultureInfo.InvariantCulture, $"… ({text.Length - i} more characters)");
        }

        return quoted.ToString();
    }
}
