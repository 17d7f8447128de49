using StackExchange.Redis;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Redis.Tests;

/// <summary>
/// The Redis server named by <c>OCSP_STAPLING_REDIS</c> (a StackExchange.Redis configuration such as
/// <c>127.0.0.1:6379</c>; <c>.ci/run</c> starts one with <c>eng/redis.sh</c>). Each test uses its own key prefix. Without
/// a reachable server the tests skip with the reason.
/// </summary>
public sealed class RedisFixture : IAsyncLifetime
{
    public const string Variable = "OCSP_STAPLING_REDIS";

    public string Configuration { get; private set; } = "";

    public string? UnavailableReason { get; private set; }

    public ConnectionMultiplexer? Connection { get; private set; }

    public (string Host, int Port) Endpoint { get; private set; }

    public async Task InitializeAsync()
    {
        string? configured = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrWhiteSpace(configured))
        {
            UnavailableReason = Requires.NoRedis;
            return;
        }

        Configuration = configured;
        try
        {
            ConfigurationOptions options = ConfigurationOptions.Parse(configured);
            options.ConnectTimeout = 5000;
            Connection = await ConnectionMultiplexer.ConnectAsync(options);
            var endpoint = (System.Net.IPEndPoint)Connection.GetEndPoints()[0] is var e ? e : throw new InvalidOperationException();
            Endpoint = (endpoint.Address.ToString(), endpoint.Port);
        }
        catch (Exception ex) when (ex is RedisException or ArgumentException or InvalidCastException)
        {
            UnavailableReason = $"Redis at {Variable} ({configured}) is not reachable: {ex.Message}";
        }
    }

    public async Task DisposeAsync()
    {
        if (Connection is not null)
        {
            await Connection.DisposeAsync();
        }
    }

    public void SkipIfUnavailable() => Skip.If(UnavailableReason is not null, UnavailableReason);

    /// <summary>A key prefix no other test uses.</summary>
    public static string NewInstanceName() => $"ocsp-test-{Guid.NewGuid():N}:";

    /// <summary>The configuration with a short timeout, through 127.0.0.1:<paramref name="relayPort"/> when given.</summary>
    public string ConfigurationVia(int? relayPort) =>
        relayPort is { } port ? $"127.0.0.1:{port},connectTimeout=1000,syncTimeout=1000,asyncTimeout=1000,abortConnect=false" : $"{Configuration},abortConnect=false";
}
