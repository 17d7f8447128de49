using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tests.Architecture;

/// <summary>
/// The folders of the core package name the data flow, and their dependencies point one way, read from the compiled
/// assembly (every type each method body, signature, field and base type names) and its PDB (the folder each type is
/// declared in): a type of an earlier folder that uses a type of a later one fails here, naming both.
/// </summary>
public sealed class DependencyDirectionTests
{
    /// <summary>
    /// The data flow, first to last: each folder may use its own types and those of the folders before it. Common holds
    /// domain-free utilities; Certificates X.509 facts; Protocol its four concerns in order; Outcomes the closed sets of
    /// reasons and sources; Diagnostics logs and instruments; then fetch → cache → schedule → provider → certificates learned on
    /// demand → client certificates → TLS → DI.
    /// </summary>
    public static readonly string[] Order =
    [
        "Common",
        "Certificates",
        "Protocol/Der",
        "Protocol/Requests",
        "Protocol/Http",
        "Protocol/Responses",
        "Protocol/Validation",
        "Protocol/Crls",
        "Outcomes",
        "Diagnostics",
        "Fetching",
        "Caching",
        "Scheduling",
        "Provider",
        "OnDemand",
        "Clients",
        "Tls",
        "DependencyInjection",
    ];

    private static readonly Lazy<FolderOrder> Core = new(() => new FolderOrder(typeof(OcspStaple).Assembly, "src/Ocsp.Stapling/", Order));

    [Fact]
    public void EveryType_IsDeclaredInOneKnownFolder()
    {
        string[] problems = Core.Value.TypesOutsideTheOrder();

        Assert.True(Core.Value.Folders.Count > 80, $"only {Core.Value.Folders.Count} types found: is the PDB the assembly's?");
        Assert.True(problems.Length == 0, "Types outside the ordered folders (add the folder to Order, or move the type):\n" + string.Join('\n', problems));
    }

    [Fact]
    public void NoType_UsesATypeOfALaterFolder()
    {
        string[] violations = Core.Value.UsesAgainstTheOrder();

        Assert.True(violations.Length == 0, "Dependencies against the data flow:\n" + string.Join('\n', violations));
    }

    [Fact]
    public void TheCheck_SeesRealDependencies()
    {
        // The reader is only worth its verdict if it finds what the code plainly uses, in bodies and signatures alike.
        Assert.Contains("Ocsp.Stapling.Internal.OcspFetcher", Core.Value.Uses["Ocsp.Stapling.Internal.AnswerFetcher"]);            // a primary-constructor field and calls
        Assert.Contains("Ocsp.Stapling.Internal.RefreshPolicy", Core.Value.Uses["Ocsp.Stapling.Internal.StapleRefresher"]);        // static calls inside async bodies
        Assert.Contains("Ocsp.Stapling.OcspStapleUpdatedEventArgs", Core.Value.Uses["Ocsp.Stapling.Internal.RefreshReporter"]);    // newobj
        Assert.Contains("Ocsp.Stapling.OcspFailureReason", Core.Value.Uses["Ocsp.Stapling.Internal.FetchOutcome"]); // enum constants in signatures
        Assert.Equal(["Tls"], Core.Value.Folders["Ocsp.Stapling.OcspStaplingContexts"]);
        Assert.Equal(["Protocol/Validation"], Core.Value.Folders["Ocsp.Stapling.OcspValidationFailure"]); // an enum: no method body
    }

    [Fact]
    public void NoSourceFolder_HoldsMoreThan20Files()
    {
        string src = Path.Combine(RepositoryFiles.Root, "src");
        string[] crowded =
        [
            .. Directory.EnumerateDirectories(src, "*", SearchOption.AllDirectories)
                .Where(d => !d.Contains($"{Path.DirectorySeparatorChar}obj", StringComparison.Ordinal) && !d.Contains($"{Path.DirectorySeparatorChar}bin", StringComparison.Ordinal))
                .Select(d => (Directory: d, Count: Directory.EnumerateFiles(d, "*.cs").Count()))
                .Where(d => d.Count > 20)
                .Select(d => $"{Path.GetRelativePath(src, d.Directory)}: {d.Count} files"),
        ];

        Assert.True(crowded.Length == 0, "Folders with more than 20 source files:\n" + string.Join('\n', crowded));
    }

}
