using SharpFuzz;

namespace Ocsp.Stapling.Fuzz;

/// <summary>
/// The fuzz targets (see <c>fuzz/README.md</c>):
/// <code>
/// Ocsp.Stapling.Fuzz --list                          the targets, one a line
/// Ocsp.Stapling.Fuzz --seed DIR                      writes the seed corpus (DIR/pki, DIR/&lt;target&gt;/…)
/// Ocsp.Stapling.Fuzz --replay TARGET PKI FILE|DIR…   runs every input in-process; exit 1 naming each finding
/// Ocsp.Stapling.Fuzz TARGET PKI                      under afl-fuzz (SharpFuzz, out of process): the fuzzing loop
/// </code>
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        switch (args)
        {
            case ["--list"]:
                foreach (string name in FuzzTargets.Names)
                {
                    Console.WriteLine(name);
                }

                return 0;
            case ["--seed", string directory]:
                SeedCorpus.Write(directory);
                return 0;
            case ["--replay", string target, string pki, .. string[] inputs] when inputs.Length > 0:
                return Replay(target, FuzzPki.Load(pki), inputs);
            case [string target, string pki] when FuzzTargets.Names.Contains(target):
                // Instrumented code must not run before the fuzzer has set up its coverage map: the PKI is loaded
                // inside the loop, on its first input.
                FuzzPki? loaded = null;
                Fuzzer.OutOfProcess.Run(stream =>
                {
                    using var buffer = new MemoryStream();
                    stream.CopyTo(buffer);
                    loaded ??= FuzzPki.Load(pki);
                    FuzzTargets.Run(target, buffer.ToArray(), loaded);
                });
                return 0;
            default:
                Console.Error.WriteLine("usage: Ocsp.Stapling.Fuzz --list | --seed DIR | --replay TARGET PKI FILE|DIR... | TARGET PKI");
                Console.Error.WriteLine("targets: " + string.Join(", ", FuzzTargets.Names));
                return 64;
        }
    }

    /// <summary>Every file (directories: every file in them, recursively), in-process; a finding is printed with its path.</summary>
    private static int Replay(string target, FuzzPki pki, string[] inputs)
    {
        int count = 0;
        int findings = 0;
        foreach (string file in inputs.SelectMany(i => Directory.Exists(i) ? Directory.EnumerateFiles(i, "*", SearchOption.AllDirectories) : [i]).Order(StringComparer.Ordinal))
        {
            count++;
            try
            {
                FuzzTargets.Run(target, File.ReadAllBytes(file), pki);
            }
#pragma warning disable CA1031 // Every exception that escapes a target is a finding, to be reported with its input.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                findings++;
                Console.WriteLine($"FINDING {target} {file}: {ex.GetType().FullName}: {ex.Message}");
                Console.WriteLine(ex.StackTrace);
            }
        }

        Console.WriteLine($"{target}: {count} input(s) replayed, {findings} finding(s).");
        return findings == 0 ? 0 : 1;
    }
}
