using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tool.Tests.Architecture;

/// <summary>The folders of the tool in their order, checked on the compiled assembly as the library's are.</summary>
public sealed class DependencyDirectionTests
{
    /// <summary>First to last: what the tool writes (exit codes, errors, response files, HAProxy's socket); what it reads (options, configuration files, stores); the commands.</summary>
    public static readonly string[] Order = ["Output", "Configuration", "Commands"];

    private static readonly Lazy<FolderOrder> Package = new(() => new FolderOrder(typeof(ExitCodes).Assembly, "src/Ocsp.Stapling.Tool/", Order));

    [Fact]
    public void EveryType_IsDeclaredInOneKnownFolder()
    {
        Assert.True(Package.Value.Folders.Count > 15, $"only {Package.Value.Folders.Count} types found: is the PDB the assembly's?");
        string[] problems = Package.Value.TypesOutsideTheOrder();
        Assert.True(problems.Length == 0, "Types outside the ordered folders:\n" + string.Join('\n', problems));
    }

    [Fact]
    public void NoType_UsesATypeOfALaterFolder()
    {
        Assert.Contains("Ocsp.Stapling.Tool.StoreOptions", Package.Value.Uses["Ocsp.Stapling.Tool.ServeCommand"]); // it sees real uses
        string[] violations = Package.Value.UsesAgainstTheOrder();
        Assert.True(violations.Length == 0, "Dependencies against the folder order:\n" + string.Join('\n', violations));
    }
}
