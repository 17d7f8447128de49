using Npgsql;
using Ocsp.Stapling.CacheConformance;
using Xunit.Abstractions;

namespace Ocsp.Stapling.PostgreSql.Tests;

/// <summary>The fleet, outage and restart tests on one PostgreSQL table.</summary>
public sealed class PostgreSqlFleetTests(PostgreSqlFixture database, ITestOutputHelper output) : SharedStoreFleetTests(output), IClassFixture<PostgreSqlFixture>
{
    private readonly string _table = PostgreSqlFixture.NewTableName();

    protected override string StoreName => "PostgreSQL";

    protected override (string Host, int Port) StoreEndpoint
    {
        get
        {
            var server = new NpgsqlConnectionStringBuilder(database.ConnectionString);
            return (server.Host!, server.Port);
        }
    }

    protected override void SkipIfUnavailable() => database.SkipIfUnavailable();

    protected override void UseStore(IOcspStaplingBuilder builder, int? relayPort)
    {
        string connectionString = relayPort is { } port
            ? new NpgsqlConnectionStringBuilder(database.ConnectionString) { Port = port }.ConnectionString
            : database.ConnectionString;
        builder.UsePostgreSqlCache(connectionString, o =>
        {
            o.SchemaName = database.Schema;
            o.TableName = _table;
            o.CommandTimeout = TimeSpan.FromSeconds(1);
        });
    }

    protected override async Task<byte[]?> ReadRawAsync(string key) =>
        await database.ScalarAsync($"SELECT value FROM \"{database.Schema}\".\"{_table}\" WHERE id = @id", ("id", key)) as byte[];
}
