using System.Diagnostics;
using System.Text.Json;
using Ocsp.Stapling.Testing;
using Xunit.Abstractions;

namespace Ocsp.Stapling.Tool.Tests;

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

        var random = new Random(6);
        int killedMidRun = 0;
        int killedMidWrites = 0;
        for (int run = 0; run < 12; run++)
        {
            DateTime started = DateTime.UtcNow;
            using Process renew = Start("renew", "--config", config, "--cache", cache);
            bool exited = renew.WaitForExit(random.Next(150, 1500));
            if (!exited)
            {
                renew.Kill(); // SIGKILL on Linux
                killedMidRun++;
            }

            await renew.WaitForExitAsync();
            int written = sites.Count(s => File.Exists(s.Ocsp) && File.GetLastWriteTimeUtc(s.Ocsp) >= started)
                + (Directory.Exists(cache) ? Directory.GetFiles(cache, "*.entry").Count(f => File.GetLastWriteTimeUtc(f) >= started) : 0);
            killedMidWrites += !exited && written is > 0 and < 80 ? 1 : 0;
            AssertWhole(sites, cache);
        }

        output.WriteLine($"{killedMidRun} of 12 runs killed before they finished, {killedMidWrites} of them between their first and last write");
        Assert.True(killedMidRun >= 3, $"only {killedMidRun} of 12 runs were killed before they finished: the test did not test kills");
        Assert.True(killedMidWrites >= 1, "no run was killed between its first and its last write");

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
