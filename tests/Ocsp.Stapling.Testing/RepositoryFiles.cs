namespace Ocsp.Stapling.Testing;

/// <summary>Files of the repository the tests run from (sources, docs, fuzz regressions).</summary>
public static class RepositoryFiles
{
    /// <summary>The repository's root: the directory above the test's build output that holds Ocsp.Stapling.sln.</summary>
    public static string Root
    {
        get
        {
            for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(System.IO.Path.Combine(directory.FullName, "Ocsp.Stapling.sln")))
                {
                    return directory.FullName;
                }
            }

            throw new InvalidOperationException("Ocsp.Stapling.sln not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>The path of <paramref name="relative"/> (forward slashes) under the root.</summary>
    public static string Path(string relative) => System.IO.Path.Combine(Root, relative);
}
