using System.Text.RegularExpressions;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tests.Architecture;

/// <summary>
/// The documentation stays true to the code: every log event is listed, every C# example of the pages is compiled code
/// (they include regions of docs/snippets and the samples), and the README stays short. The README's own C# blocks are
/// built as pasted, from the packages its install block makes, by eng/readme-check.sh in .ci/run; docfx (run by .ci/run
/// with warnings as errors) checks links and the API reference.
/// </summary>
public sealed partial class DocumentationTests
{
    [Fact]
    public void EveryLogEvent_IsListedInOperations()
    {
        string operations = File.ReadAllText(RepositoryFiles.Path("docs/operations.md"));
        int[] declared =
        [
            .. Directory.EnumerateFiles(RepositoryFiles.Path("src"), "Log.cs", SearchOption.AllDirectories)
                .SelectMany(file => EventIdConstant().Matches(File.ReadAllText(file)))
                .Select(match => int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture))
                .Distinct(),
        ];

        Assert.True(declared.Length > 50, $"only {declared.Length} event ids found");
        int[] missing = [.. declared.Where(id => !operations.Contains($"\n| {id} |", StringComparison.Ordinal)).Order()];
        Assert.True(missing.Length == 0, "Event ids not in docs/operations.md's table: " + string.Join(", ", missing));
    }

    [Fact]
    public void DocsPages_HaveNoInlineCSharp_EveryIncludedRegionExists()
    {
        var problems = new List<string>();
        foreach (string page in Directory.EnumerateFiles(RepositoryFiles.Path("docs"), "*.md", SearchOption.AllDirectories).Where(p => !p.Contains("/_site/", StringComparison.Ordinal)))
        {
            string text = File.ReadAllText(page);
            if (text.Contains("```csharp", StringComparison.Ordinal))
            {
                problems.Add($"{page}: an inline C# block (include a region of docs/snippets or a sample instead, so it is compiled)");
            }

            foreach (Match include in CodeInclude().Matches(text))
            {
                string file = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(page)!, include.Groups["file"].Value));
                string region = include.Groups["region"].Value;
                if (!File.Exists(file) || !File.ReadAllText(file).Contains("#region " + region, StringComparison.Ordinal))
                {
                    problems.Add($"{page}: {include.Value} names no region '{region}' in {file}");
                }
            }
        }

        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Fact]
    public void Readme_IsShort()
    {
        string readme = File.ReadAllText(RepositoryFiles.Path("README.md"));
        Assert.True(readme.Split('\n').Length <= 200, $"README.md has {readme.Split('\n').Length} lines (at most 200: the rest belongs in docs/)");
    }

    [GeneratedRegex(@"public const int \w+Id = (\d+);")]
    private static partial Regex EventIdConstant();

    [GeneratedRegex(@"\[!code-csharp\[\]\((?<file>[^)#]+)#(?<region>[\w-]+)\)\]")]
    private static partial Regex CodeInclude();
}
