using System.Reflection;

namespace Ocsp.Stapling.Testing;

/// <summary>
/// The folder order of a package, checked against its compiled assembly (<see cref="AssemblyDependencies"/>): every type
/// is declared in one folder of the order, and no type uses a type of a later folder. The direction test of each
/// package (the core, ASP.NET Core, PostgreSQL, the tool) is one line over this.
/// </summary>
public sealed class FolderOrder
{
    private readonly AssemblyDependencies _dependencies;
    private readonly string[] _order;

    public FolderOrder(Assembly assembly, string projectDirectory, params string[] order)
    {
        _dependencies = AssemblyDependencies.Read(assembly, projectDirectory);
        _order = order;
    }

    /// <summary>Gets the folders each type is declared in, by full name.</summary>
    public IReadOnlyDictionary<string, IReadOnlySet<string>> Folders => _dependencies.Folders;

    /// <summary>Gets the types of the same assembly each type uses, by full name.</summary>
    public IReadOnlyDictionary<string, IReadOnlySet<string>> Uses => _dependencies.Uses;

    /// <summary>Types declared outside the ordered folders, or in several.</summary>
    public string[] TypesOutsideTheOrder() =>
    [
        .. _dependencies.Folders
            .Where(p => p.Value.Count != 1 || !_order.Contains(p.Value.Single()))
            .Select(p => $"{p.Key}: declared in {string.Join(", ", p.Value)}")
            .Order(StringComparer.Ordinal),
    ];

    /// <summary>Every use of a type of a later folder, as "Folder/Type uses LaterFolder/Type".</summary>
    public string[] UsesAgainstTheOrder()
    {
        var violations = new List<string>();
        foreach ((string type, IReadOnlySet<string> used) in _dependencies.Uses)
        {
            if (Rank(type) is not { } rank)
            {
                continue; // generated code only (source generators): checked through the types that call it
            }

            foreach (string other in used)
            {
                if (Rank(other) is { } otherRank && otherRank > rank)
                {
                    violations.Add($"{Folder(type)}/{Short(type)} uses {Folder(other)}/{Short(other)}");
                }
            }
        }

        return [.. violations.Order(StringComparer.Ordinal)];
    }

    private int? Rank(string type) =>
        _dependencies.Folders.TryGetValue(type, out IReadOnlySet<string>? folders) && folders.Count == 1 ? Array.IndexOf(_order, folders.Single()) is var i and >= 0 ? i : null : null;

    private string Folder(string type) => _dependencies.Folders[type].Single();

    private static string Short(string type) => type[(type.LastIndexOf('.') + 1)..];
}
