using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.PostgreSql.Tests.Architecture;

/// <summary>The folders of Ocsp.Stapling.PostgreSql in their order, checked on the compiled assembly as the library's are.</summary>
public sealed class DependencyDirectionTests
{
    /// <summary>First to last: the SQL and the log (Internal); the store, its options and registration (the package's root).</summary>
    public static readonly string[] Order = ["Internal", "."];

    private static readonly Lazy<FolderOrder> Package = new(() => new FolderOrder(typeof(PostgreSqlDistributedCache).Assembly, "src/Ocsp.Stapling.PostgreSql/", Order));

    [Fact]
    public void EveryType_IsDeclaredInOneKnownFolder()
    {
        Assert.True(Package.Value.Folders.Count >= 5, $"only {Package.Value.Folders.Count} types found: is the PDB the assembly's?");
        string[] problems = Package.Value.TypesOutsideTheOrder();
        Assert.True(problems.Length == 0, "Types outside the ordered folders:\n" + string.Join('\n', problems));
    }

    [Fact]
    public void NoType_UsesATypeOfALaterFolder()
    {
        Assert.Contains("Ocsp.Stapling.PostgreSql.Internal.SqlStatements", Package.Value.Uses["Ocsp.Stapling.PostgreSql.PostgreSqlDistributedCache"]); // it sees real uses
        string[] violations = Package.Value.UsesAgainstTheOrder();
        Assert.True(violations.Length == 0, "Dependencies against the folder order:\n" + string.Join('\n', violations));
    }
}
