using Ocsp.Stapling.Fuzz;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tool.Tests;

/// <summary>
/// Every input the fuzzers found (fuzz/regressions/TARGET/) and the seed corpus, through the same targets, in the normal
/// test suite: each must now be accepted or refused with the target's documented exception, within the allocation bound.
/// </summary>
public sealed class FuzzRegressionTests
{
    private static readonly Lazy<string> Corpus = new(() =>
    {
        string directory = Path.Combine(Path.GetTempPath(), "ocsp-stapling-fuzz-seeds-" + Guid.NewGuid().ToString("N"));
        SeedCorpus.Write(directory);
        return directory;
    });

    public static TheoryData<string> Targets => [.. FuzzTargets.Names];

    [Theory]
    [MemberData(nameof(Targets))]
    public void SeedsAndFoundInputs_AreAcceptedOrRefusedAsDocumented(string target)
    {
        FuzzPki pki = FuzzPki.Load(Path.Combine(Corpus.Value, "pki"));
        string regressions = Path.Combine(RepositoryFiles.Root, "fuzz", "regressions", target);
        string[] inputs =
        [
            .. Directory.EnumerateFiles(Path.Combine(Corpus.Value, target)),
            .. Directory.Exists(regressions) ? Directory.EnumerateFiles(regressions) : [],
        ];
        Assert.NotEmpty(inputs);

        var findings = new List<string>();
        foreach (string input in inputs)
        {
            try
            {
                FuzzTargets.Run(target, File.ReadAllBytes(input), pki);
            }
#pragma warning disable CA1031 // Every exception that escapes a target is a finding, reported with its input.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                findings.Add($"{input}: {ex.GetType().Name}: {ex.Message}");
            }
        }

        Assert.True(findings.Count == 0, string.Join('\n', findings));
    }

    [Fact]
    public void TheFoundInputs_AreKept_ForTheParsersThatHadFindings()
    {
        // The der pre-scan let BouncyCastle's own exceptions escape; the PFX loader allocated 64 MB for a 120-byte file.
        string root = Path.Combine(RepositoryFiles.Root, "fuzz", "regressions");
        Assert.True(Directory.EnumerateFiles(Path.Combine(root, "der")).Count() >= 10);
        Assert.True(Directory.EnumerateFiles(Path.Combine(root, "certificate-file")).Count() >= 2);
    }

}
