using System.Security.Cryptography.X509Certificates;
using Ocsp.Stapling.Internal;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tests.Caching;

/// <summary>
/// The file store on a disk that fills up or turns read-only (issue 19, item 6; a real tmpfs, root only): lookups keep
/// being served from memory, the failure is logged once per kind (Warning, then Debug), no torn entry or temporary file
/// is left, and writes recover when the fault clears.
/// </summary>
public sealed class FileStoreFaultTests(ResponderFixture fixture) : IClassFixture<ResponderFixture>
{
    private const int Certificates = 5;

    private readonly FakeTimeProvider _time = fixture.Reset();
    private readonly TestOcspResponder _responder = fixture.Responder;

    [SkippableFact]
    public Task DiskFull_ServedFromMemory_LoggedOnce_RecoversWhenFreed() =>
        FaultThenRecoverAsync(disk => { disk.Fill(); return Task.CompletedTask; }, disk => { disk.Free(); return Task.CompletedTask; });

    [SkippableFact]
    public Task ReadOnlyDirectory_ServedFromMemory_LoggedOnce_RecoversWhenWritable() =>
        FaultThenRecoverAsync(disk => disk.ReadOnlyAsync(), disk => disk.ReadWriteAsync());

    private async Task FaultThenRecoverAsync(Func<SmallDisk, Task> fault, Func<SmallDisk, Task> clear)
    {
        (SmallDisk? mounted, string? why) = await SmallDisk.TryMountAsync(256);
        Skip.If(mounted is null, why);
        await using SmallDisk disk = mounted!;
        string directory = Path.Combine(disk.Path, "cache");
        X509Certificate2[] leaves = Enumerable.Range(0, Certificates).Select(_ => fixture.NewLeaf("disk")).ToArray();
        using (var host = new ProviderHost(_time, b => b.UseFileSystemCache(directory)))
        {
            Directory.CreateDirectory(directory);
            await fault(disk);
            foreach (X509Certificate2 leaf in leaves)
            {
                host.Provider.Register(leaf, fixture.Pki.Intermediate);
                Assert.True((await host.Provider.RefreshAsync(leaf)).Succeeded);
                Assert.True(host.Provider.TryGetCachedStaple(leaf, out _)); // from memory (L1)
            }

            Assert.Single(host.Logs.Entries, e => e.EventId == Log.CacheWriteFailedId && e.Level == Microsoft.Extensions.Logging.LogLevel.Warning);
            Assert.Equal(Certificates - 1, host.Logs.Entries.Count(e => e.EventId == Log.CacheFailedAgainId));
            Assert.Empty(Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)); // nothing half-written

            // The fault clears: the next refreshes write, and say so once.
            await clear(disk);
            _time.Advance(TimeSpan.FromSeconds(1)); // newer responses to adopt
            foreach (X509Certificate2 leaf in leaves)
            {
                Assert.True((await host.Provider.RefreshAsync(leaf)).Succeeded);
            }

            Assert.Single(host.Logs.Entries, e => e.EventId == Log.CacheRecoveredId);
            Assert.DoesNotContain(Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories), f => f.EndsWith(".tmp", StringComparison.Ordinal));
        }

        // What was written is whole: a restart with the responder down staples every certificate from the store.
        _responder.Fault = ResponderFault.Down;
        _responder.ResetCount();
        using var restarted = new ProviderHost(_time, b => b.UseFileSystemCache(directory));
        foreach (X509Certificate2 leaf in leaves)
        {
            restarted.Provider.Register(leaf, fixture.Pki.Intermediate);
            Assert.NotNull(await restarted.Provider.WarmUpAsync(leaf));
        }

        Assert.Equal(0, _responder.RequestCount);
    }
}
