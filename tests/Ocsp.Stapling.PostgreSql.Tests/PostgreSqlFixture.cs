using Npgsql;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.PostgreSql.Tests;

/// <summary>
/// The PostgreSQL server named by <c>OCSP_STAPLING_POSTGRES</c> (a connection string; <c>.ci/run</c> starts one with
/// <c>eng/postgres.sh</c>). Each test class gets its own schema, dropped at the end. Without a reachable server the tests skip
/// with the reason.
/// </summary>
public sealed class PostgreSqlFixture : IAsyncLifetime
{
    public const string Variable = "OCSP_STAPLING_POSTGRES";

    public string ConnectionString { get; private set; } = "";

    public string? UnavailableReason { get; private set; }

    public string Schema { get; } = $"ocsp_test_{Guid.NewGuid():N}"[..24];

    public async Task InitializeAsync()
    {
        string? configured = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrWhiteSpace(configured))
        {
            UnavailableReason = Requires.NoPostgres;
            return;
        }

        ConnectionString = new NpgsqlConnectionStringBuilder(configured) { Timeout = 5 }.ConnectionString;
        try
        {
            await using var connection = new NpgsqlConnection(ConnectionString);
            await connection.OpenAsync();
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            UnavailableReason = $"PostgreSQL at {Variable} is not reachable: {ex.Message}";
        }
    }

    public async Task DisposeAsync()
    {
        if (UnavailableReason is null)
        {
            await ExecuteAsync($"DROP SCHEMA IF EXISTS \"{Schema}\" CASCADE");
        }

        NpgsqlConnection.ClearAllPools();
    }

    public void SkipIfUnavailable() => Skip.If(UnavailableReason is not null, UnavailableReason);

    public PostgreSqlCacheOptions Options(TimeProvider time, string? table = null, string? connectionString = null) => new()
    {
        ConnectionString = connectionString ?? ConnectionString,
        SchemaName = Schema,
        TableName = table ?? NewTableName(),
        TimeProvider = time,
    };

    public static string NewTableName() => $"cache_{Guid.NewGuid():N}"[..20];

    public async Task<object?> ScalarAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach ((string name, object value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return await command.ExecuteScalarAsync();
    }

    public Task ExecuteAsync(string sql) => ScalarAsync(sql);
}
