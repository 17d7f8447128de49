namespace Ocsp.Stapling.Internal;

/// <summary>
/// The one durable atomic write (shared source, compiled into the core package and the tool): a uniquely named
/// temporary file in the same directory, flushed to disk, then renamed over the target. Readers see the old or the new
/// content, never a torn one, and a crash right after the rename does not leave an empty file.
/// </summary>
internal static class DurableFile
{
    /// <summary>The suffix of temporary files; a directory's owner may delete leftovers of crashed writers.</summary>
    public const string TemporarySuffix = ".tmp";

    /// <summary>Writes <paramref name="data"/> to <paramref name="path"/> atomically, keeping the previous file as <paramref name="backupPath"/> when given.</summary>
    /// <exception cref="IOException">The write failed; the target is unchanged and no temporary file is left.</exception>
    /// <exception cref="UnauthorizedAccessException">The directory is not writable.</exception>
    public static void WriteAtomically(string path, ReadOnlySpan<byte> data, string? backupPath = null)
    {
        string full = Path.GetFullPath(path);
        string temporary = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}{TemporarySuffix}");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(data);
                stream.Flush(flushToDisk: true);
            }

            if (backupPath is not null && File.Exists(full))
            {
                File.Copy(full, backupPath, overwrite: true);
            }

            File.Move(temporary, full, overwrite: true);
        }
        catch
        {
            try
            {
                File.Delete(temporary);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The original failure is what the caller needs to see.
            }

            throw;
        }
    }
}
