using System.Diagnostics;
using System.Text.Json;
using Ocsp.Stapling.Testing;
using Xunit.Abstractions;

namespace Ocsp.Stapling.Tool.Tests.Output;

/// <summary>
/// The file store and the response files when the writer is killed (SIGKILL) at random moments of a write loop
/// (issue 19, item 6): no torn entry or file is ever read, and the next run writes everything.
/// </summary>
public sealed class KilledWriterTests(ToolFixture fixture, ITestOutputHelper output) : IClassFixture<ToolFixture>
{
    [Fact]
    public async Task Renew_KilledDuringWrites_InALoop_NoTornEntryOrFile_TheNextRunWritesAll()
    {
        LeafFiles[] sites = [.. Enumerable.Range(0, 40).Select(i => fixture.NewLeaf($"killed-{i}"))];
        string directory = Directory.CreateTempSubdirectory("ocsp-killed-").FullName;
        string cache = Path.Combine(directory, "cache");
        string config = Path.Combine(directory, "renew.json");

        // Every run renews everything (a response is never valid for 10 years), so every run writes 40 entries and 40 files.
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new
        {
            minimum_validity = "3650d",
            certificates = sites.Select(s => new { cert = s.Chain, output = s.Ocsp }),
        }).Replace("minimum_validity", "minimum-validity", StringComparison.Ordinal));

        // Each run is killed once it has written a random number of its 80 files (renamed into place): on the writes
        // themselves, whatever the machine's speed, not after a guessed time.
        var random = new Random(6);
        int killedMidRun = 0;
        int killedMidWrites = 0;
        Directory.CreateDirectory(cache);
        for (int run = 0; run < 12; run++)
        {
            DateTime started = DateTime.UtcNow;
            int target = random.Next(1, 40), renamed = 0; // a run writes 40 response files and up to 40 entries
            var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            void Count(object sender, RenamedEventArgs e)
            {
                if ((e.Name ?? "").EndsWith(".ocsp", StringComparison.Ordinal) || (e.Name ?? "").EndsWith(".entry", StringComparison.Ordinal))
                {
                    if (Interlocked.Increment(ref renamed) >= target)
                    {
                        reached.TrySetResult();
                    }
                }
            }

            using var responses = new FileSystemWatcher(fixture.Directory) { IncludeSubdirectories = true, InternalBufferSize = 64 * 1024 };
            using var entries = new FileSystemWatcher(cache) { InternalBufferSize = 64 * 1024 };
            responses.Renamed += Count;
            entries.Renamed += Count;
            responses.EnableRaisingEvents = entries.EnableRaisingEvents = true;
            using Process renew = Start("renew", "--config", config, "--cache", cache);
            Task exit = renew.WaitForExitAsync();
            await Task.WhenAny(reached.Task, exit).WaitAsync(TimeSpan.FromSeconds(60)); // a guard against a hang, not a timing
            bool exited = renew.HasExited;
            if (!exited)
            {
                renew.Kill(); // SIGKILL on Linux
                killedMidRun++;
            }

            await exit;
            int written = sites.Count(s => File.Exists(s.Ocsp) && File.GetLastWriteTimeUtc(s.Ocsp) >= started)
                + Directory.GetFiles(cache, "*.entry").Count(f => File.GetLastWriteTimeUtc(f) >= started);
            killedMidWrites += !exited && written is > 0 and < 80 ? 1 : 0;
            AssertWhole(sites, cache);
        }

        output.WriteLine($"{killedMidRun} of 12 runs killed before they finished, {killedMidWrites} of them between their first and last write");
        Assert.True(killedMidRun >= 10, $"only {killedMidRun} of 12 runs were killed before they finished: the test did not test kills");
        Assert.True(killedMidWrites >= 10, $"only {killedMidWrites} runs were killed between their first and their last write");

        ProgramResult last = await ToolFixture.RunToolAsync("renew", "--config", config, "--cache", cache);
        Assert.True(last.ExitCode == 40, last.ToString()); // 40 files changed
        AssertWhole(sites, cache);
        Assert.All(sites, s => Assert.True(File.Exists(s.Ocsp), s.Ocsp));
        Assert.Equal(40, Directory.GetFiles(cache, "*.entry").Length);
    }

    /// <summary>Every response file present validates; every store entry present reads whole (none is corrupt: compacting the store deletes no entry).</summary>
    private void AssertWhole(LeafFiles[] sites, string cache)
    {
        DateTimeOffset now = TimeProvider.System.GetUtcNow();
        foreach (LeafFiles site in sites.Where(s => File.Exists(s.Ocsp)))
        {
            OcspValidationResult validation = OcspResponseValidator.Validate(File.ReadAllBytes(site.Ocsp), site.Certificate, fixture.Pki.Intermediate, now);
            Assert.True(validation.IsValid, $"{site.Ocsp}: {validation.Message}");
        }

        if (Directory.Exists(cache))
        {
            int entries = Directory.GetFiles(cache, "*.entry").Length;
            Assert.Equal(0, new FileSystemDistributedCache(cache).Compact());
            Assert.Equal(entries, Directory.GetFiles(cache, "*.entry").Length);
        }
    }

    private static Process Start(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in (string[])[ToolFixture.ToolDllPath, .. arguments])
        {
            start.ArgumentList.Add(argument);
        }

        Process process = Process.Start(start) ?? throw new InvalidOperationException("Could not start dotnet.");
        process.BeginOutputReadLine(); // drained, unread: what a killed run said does not matter
        process.BeginErrorReadLine();
        return process;
    }
}
