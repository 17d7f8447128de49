using Xunit;

namespace Ocsp.Stapling.Testing;

/// <summary>
/// The one wording of each reason a test skips, so that a skipped run says the same thing for the same cause
/// (the README's test command prints each skip's reason).
/// </summary>
public static class Requires
{
    /// <summary>The skip reason when no Redis server is given.</summary>
    public const string NoRedis = "No Redis server: set OCSP_STAPLING_REDIS (eval \"$(eng/redis.sh start /tmp/ocsp-redis)\" starts a throwaway one; .ci/run does)";

    /// <summary>The skip reason when no PostgreSQL server is given.</summary>
    public const string NoPostgres = "No PostgreSQL server: set OCSP_STAPLING_POSTGRES (eval \"$(eng/postgres.sh start /tmp/ocsp-pg)\" starts a throwaway one; .ci/run does)";

    private static readonly Dictionary<string, string> DebianPackages = new(StringComparer.Ordinal)
    {
        ["gnutls-cli"] = "gnutls-bin",
        ["exim4"] = "exim4-daemon-light",
    };

    /// <summary>Skips the test unless every program is on PATH, naming those that are not and their Debian packages.</summary>
    public static void Programs(params string[] names)
    {
        string[] missing = [.. names.Where(name => ExternalProgram.Find(name) is null)];
        Skip.If(missing.Length > 0, NotInstalled(missing));
    }

    /// <summary>The skip reason for programs that are not on PATH.</summary>
    public static string NotInstalled(IReadOnlyCollection<string> names) =>
        $"Not installed: {string.Join(", ", names)} (apt-get install {string.Join(' ', names.Select(n => DebianPackages.GetValueOrDefault(n, n)).Distinct())}; .ci/run installs them)";
}
