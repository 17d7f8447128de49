namespace Ocsp.Stapling.Testing;

/// <summary>
/// A small tmpfs mounted for one test (root only): a disk that fills up, or turns read-only, on demand. Unmounted on
/// dispose. <see cref="TryMountAsync"/> says why when it cannot be had (not root, no mount permission), for a skip.
/// </summary>
public sealed class SmallDisk : IAsyncDisposable
{
    private SmallDisk(string path) => Path = path;

    public string Path { get; }

    /// <summary>Mounts a tmpfs of <paramref name="kibibytes"/> KiB; the disk, or why there is none.</summary>
    public static async Task<(SmallDisk? Disk, string? Why)> TryMountAsync(int kibibytes)
    {
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root")
        {
            return (null, "mounting a small tmpfs needs root on Linux");
        }

        string path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "ocsp-small-disk-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        ProgramResult mount = await ExternalProgram.RunAsync("mount", ["-t", "tmpfs", "-o", $"size={kibibytes}k", "tmpfs", path]).ConfigureAwait(false);
        if (mount.ExitCode != 0)
        {
            Directory.Delete(path);
            return (null, $"mount -t tmpfs failed here: {mount.StandardError.Trim()}");
        }

        return (new SmallDisk(path), null);
    }

    /// <summary>Writes a filler file until the disk is full.</summary>
    public void Fill()
    {
        using var filler = new FileStream(System.IO.Path.Combine(Path, "filler"), FileMode.Append);
        byte[] block = new byte[4096];
        try
        {
            while (true)
            {
                filler.Write(block);
                filler.Flush(flushToDisk: true);
            }
        }
        catch (IOException)
        {
            // Full.
        }
    }

    /// <summary>Deletes the filler: space again.</summary>
    public void Free() => File.Delete(System.IO.Path.Combine(Path, "filler"));

    public Task ReadOnlyAsync() => RemountAsync("ro");

    public Task ReadWriteAsync() => RemountAsync("rw");

    public async ValueTask DisposeAsync()
    {
        await ExternalProgram.RunAsync("umount", ["-l", Path]).ConfigureAwait(false);
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task RemountAsync(string mode)
    {
        ProgramResult result = await ExternalProgram.RunAsync("mount", ["-o", $"remount,{mode}", Path]).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"remount {mode} failed: {result}");
        }
    }
}
