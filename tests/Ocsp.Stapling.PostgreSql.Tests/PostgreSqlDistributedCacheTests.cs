using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.PostgreSql.Tests;

public sealed class PostgreSqlDistributedCacheTests(PostgreSqlFixture database) : IClassFixture<PostgreSqlFixture>
{
    private static readonly DistributedCacheEntryOptions NoExpiry = new();
    private readonly FakeTimeProvider _time = new();

    [SkippableFact]
    public async Task FirstUse_CreatesSchemaTableAndIndex_WithQuotedNames()
    {
        database.SkipIfUnavailable();
        string table = "Odd \"Name\"; x";
        await using var sut = new PostgreSqlDistributedCache(database.Options(_time, table));

        await sut.SetAsync("k", [1], NoExpiry);

        Assert.Equal(1L, await database.ScalarAsync(
            "SELECT count(*) FROM pg_tables WHERE schemaname = @s AND tablename = @t", ("s", database.Schema), ("t", table)));
        Assert.Equal(1L, await database.ScalarAsync(
            "SELECT count(*) FROM pg_indexes WHERE schemaname = @s AND tablename = @t AND indexdef LIKE '%(expires_at)%'", ("s", database.Schema), ("t", table)));
        Assert.Equal($"\"{database.Schema}\".\"Odd \"\"Name\"\"; x\"", sut.QualifiedTableName);
    }

    [SkippableFact]
    public async Task ManyInstancesStartingTogether_CreateTheTableOnce_WithoutErrors()
    {
        database.SkipIfUnavailable();
        string table = PostgreSqlFixture.NewTableName();
        PostgreSqlDistributedCache[] nodes = [.. Enumerable.Range(0, 8).Select(_ => new PostgreSqlDistributedCache(database.Options(_time, table)))];

        await Task.WhenAll(nodes.Select((node, i) => Task.Run(() => node.SetAsync($"node-{i}", [(byte)i], NoExpiry))));

        Assert.Equal(8L, await database.ScalarAsync($"SELECT count(*) FROM \"{database.Schema}\".\"{table}\""));
        foreach (PostgreSqlDistributedCache node in nodes)
        {
            await node.DisposeAsync();
        }
    }

    [SkippableFact]
    public async Task CreateIfNotExistsOff_MissingTable_SaysHowToCreateIt_ThenWorksWithTheScript()
    {
        database.SkipIfUnavailable();
        PostgreSqlCacheOptions options = database.Options(_time);
        options.CreateIfNotExists = false;
        await using var sut = new PostgreSqlDistributedCache(options);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => sut.GetAsync("k"));
        Assert.Contains(sut.QualifiedTableName, error.Message, StringComparison.Ordinal);
        Assert.Contains(nameof(PostgreSqlDistributedCache.CreateTableScript), error.Message, StringComparison.Ordinal);

        // What a DBA would run: the script takes the advisory-lock key as its only parameter.
        await using (var connection = new NpgsqlConnection(database.ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(sut.CreateTableScript, connection);
            command.Parameters.AddWithValue("lock", 1L);
            await command.ExecuteNonQueryAsync();
        }

        await sut.SetAsync("k", [7], NoExpiry);
        Assert.Equal([7], await sut.GetAsync("k"));
    }

    [SkippableFact]
    public async Task ExpiredRows_AreInvisible_ThenPurgedInTheBackground()
    {
        database.SkipIfUnavailable();
        PostgreSqlCacheOptions options = database.Options(_time);
        options.ExpiredItemsDeletionInterval = TimeSpan.FromMinutes(30);
        await using var sut = new PostgreSqlDistributedCache(options);
        string table = sut.QualifiedTableName;
        await sut.SetAsync("short", [1], new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(5) });
        await sut.SetAsync("long", [2], new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromDays(5) });
        await sut.SetAsync("forever", [3], NoExpiry);

        _time.Advance(TimeSpan.FromMinutes(10));
        Assert.Null(await sut.GetAsync("short"));
        Assert.Equal(3L, await database.ScalarAsync($"SELECT count(*) FROM {table}"));
        Assert.True(sut.LastPurge.IsCompleted);

        _time.Advance(TimeSpan.FromMinutes(25)); // past the deletion interval: the next operation starts a purge
        Assert.NotNull(await sut.GetAsync("long"));
        await sut.LastPurge.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(2L, await database.ScalarAsync($"SELECT count(*) FROM {table}"));
        Assert.Equal(0, await sut.PurgeExpiredAsync());
    }

    [SkippableFact]
    public async Task DeadServerPath_OperationFailsWithTimeout_WithinTheCommandTimeout()
    {
        database.SkipIfUnavailable();
        using var silent = new TcpListener(IPAddress.Loopback, 0); // accepts TCP, never speaks PostgreSQL
        silent.Start();
        var connection = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Port = ((IPEndPoint)silent.LocalEndpoint).Port, Timeout = 60 };
        PostgreSqlCacheOptions options = database.Options(_time, connectionString: connection.ConnectionString);
        options.CommandTimeout = TimeSpan.FromMilliseconds(500);
        await using var sut = new PostgreSqlDistributedCache(options);

        // The bound runs on the cache's clock: once the connection is in (the attempt is under way), let 500 ms pass.
        Task<byte[]?> get = sut.GetAsync("k");
        using TcpClient accepted = await silent.AcceptTcpClientAsync().WaitAsync(TimeSpan.FromSeconds(30));
        _time.Advance(TimeSpan.FromMilliseconds(500));
        var error = await Assert.ThrowsAsync<TimeoutException>(() => get.WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.Contains("0.5 s", error.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task CallerCancellation_IsReportedAsCancellation_NotTimeout()
    {
        database.SkipIfUnavailable();
        await using var sut = new PostgreSqlDistributedCache(database.Options(_time));
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sut.SetAsync("k", [1], NoExpiry, cancelled.Token));
    }

    [Fact]
    public void Options_WithoutConnection_OrWithBadNames_AreRejectedClearly()
    {
        var none = Assert.Throws<ArgumentException>(() => new PostgreSqlDistributedCache(new PostgreSqlCacheOptions()));
        Assert.Contains("ConnectionString or a DataSource", none.Message, StringComparison.Ordinal);

        Assert.Throws<ArgumentException>(() => new PostgreSqlDistributedCache(new PostgreSqlCacheOptions { ConnectionString = "Host=x", SchemaName = new string('s', 64) }));

        // Out-of-range options are found by the same generated validator as at start-up, and named.
        Assert.Contains(
            "PostgreSqlCacheOptions.TableName",
            Assert.Throws<OptionsValidationException>(() => new PostgreSqlDistributedCache(new PostgreSqlCacheOptions { ConnectionString = "Host=x", TableName = "" })).Message,
            StringComparison.Ordinal);
        Assert.Contains(
            "PostgreSqlCacheOptions.CommandTimeout",
            Assert.Throws<OptionsValidationException>(() => new PostgreSqlDistributedCache(new PostgreSqlCacheOptions { ConnectionString = "Host=x", CommandTimeout = TimeSpan.Zero })).Message,
            StringComparison.Ordinal);
        Assert.Contains(
            "PostgreSqlCacheOptions.ExpiredItemsDeletionInterval",
            Assert.Throws<OptionsValidationException>(() => new PostgreSqlDistributedCache(
                new PostgreSqlCacheOptions { ConnectionString = "Host=x", ExpiredItemsDeletionInterval = TimeSpan.FromSeconds(-5) })).Message,
            StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task AddPostgreSqlDistributedCache_UsesTheDataSourceFromDI_AsTheAppsIDistributedCache()
    {
        database.SkipIfUnavailable();
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(_time);
        services.AddSingleton(NpgsqlDataSource.Create(database.ConnectionString));
        services.AddPostgreSqlDistributedCache(o =>
        {
            o.SchemaName = database.Schema;
            o.TableName = PostgreSqlFixture.NewTableName();
        });
        await using ServiceProvider provider = services.BuildServiceProvider();

        IDistributedCache sut = provider.GetRequiredService<IDistributedCache>();
        await sut.SetAsync("k", [9], new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(1) });

        Assert.IsType<PostgreSqlDistributedCache>(sut);
        Assert.Equal([9], await sut.GetAsync("k"));
        _time.Advance(TimeSpan.FromMinutes(1)); // the clock from DI drives expiry
        Assert.Null(await sut.GetAsync("k"));
    }
}
