using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.AspNetCore.Tests.Architecture;

/// <summary>The folders of Ocsp.Stapling.AspNetCore in their order, checked on the compiled assembly as the core's are.</summary>
public sealed class DependencyDirectionTests
{
    /// <summary>
    /// First to last: helpers; logs; the status page and JSON with the one rule of health; the health check built on it;
    /// the caching proxy; Kestrel's stapling and client-certificate checks; certificate authentication. Each folder's
    /// options are validated in that folder.
    /// </summary>
    public static readonly string[] Order = ["Common", "Diagnostics", "Status", "HealthChecks", "Proxy", "Kestrel", "Authentication"];

    private static readonly Lazy<FolderOrder> Package = new(() => new FolderOrder(typeof(OcspProxyOptions).Assembly, "src/Ocsp.Stapling.AspNetCore/", Order));

    [Fact]
    public void EveryType_IsDeclaredInOneKnownFolder()
    {
        Assert.True(Package.Value.Folders.Count > 30, $"only {Package.Value.Folders.Count} types found: is the PDB the assembly's?");
        string[] problems = Package.Value.TypesOutsideTheOrder();
        Assert.True(problems.Length == 0, "Types outside the ordered folders:\n" + string.Join('\n', problems));
    }

    [Fact]
    public void NoType_UsesATypeOfALaterFolder()
    {
        Assert.Contains("Ocsp.Stapling.AspNetCore.Internal.ClientLimits", Package.Value.Uses["Ocsp.Stapling.AspNetCore.Internal.OcspProxy"]); // it sees real uses
        string[] violations = Package.Value.UsesAgainstTheOrder();
        Assert.True(violations.Length == 0, "Dependencies against the folder order:\n" + string.Join('\n', violations));
    }
}
