using System.Globalization;
using Ocsp.Stapling.Internal;

namespace Ocsp.Stapling.Tool;

/// <summary>Response files as nginx (<c>ssl_stapling_file</c>), HAProxy (<c>&lt;cert&gt;.ocsp</c>) and exim (<c>tls_ocsp_file</c>) read them: plain DER.</summary>
internal static class ResponseFiles
{
    /// <summary>Writes <paramref name="der"/> to a temporary file beside <paramref name="path"/> and renames it into place: readers never see half a file.</summary>
    public static void WriteAtomically(string path, ReadOnlySpan<byte> der, bool backup = false)
    {
        try
        {
            DurableFile.WriteAtomically(path, der, backup ? Path.GetFullPath(path) + ".bak" : null);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ToolException(ExitCodes.CannotWrite, $"Cannot write '{path}': {ex.Message}");
        }
    }

    public static string Describe(OcspStaple staple) => string.Create(
        CultureInfo.InvariantCulture,
        $"status {staple.Status.ToString().ToLowerInvariant()}, thisUpdate {staple.ThisUpdate:u}, nextUpdate {staple.NextUpdate:u}");
}
