using System.Buffers;
using System.Data;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NpgsqlTypes;
using Ocsp.Stapling.PostgreSql.Internal;

namespace Ocsp.Stapling.PostgreSql;

/// <summary>
/// An <see cref="IDistributedCache"/> over one PostgreSQL table: the shared staple store of a fleet (a restarted or new node
/// staples from it at once, and the CA's responder sees one request per refresh, not one per node). Sets are UPSERTs;
/// absolute and sliding expirations are honoured on the cache's <see cref="TimeProvider"/>; expired rows are never returned
/// and are deleted in the background. Every operation is bounded by <see cref="PostgreSqlCacheOptions.CommandTimeout"/>.
/// Reads through <see cref="IBufferDistributedCache"/> ask the destination for the value's size before reading the value,
/// so a destination that refuses oversized values (the provider's does) never copies one.
/// </summary>
public sealed partial class PostgreSqlDistributedCache : IDistributedCache, IBufferDistributedCache, IDisposable, IAsyncDisposable
{
    private readonly PostgreSqlCacheOptions _options;
    private readonly NpgsqlDataSource _dataSource;
    private readonly bool _ownsDataSource;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SqlStatements _sql;
    private readonly SemaphoreSlim _createGate = new(1, 1);
    private volatile bool _tableReady;
    private long _nextPurgeTicks;
    private int _purging;
    private volatile Task _lastPurge = Task.CompletedTask;

    /// <summary>Initializes a new instance.</summary>
    /// <param name="options">The options; <see cref="PostgreSqlCacheOptions.DataSource"/> or <see cref="PostgreSqlCacheOptions.ConnectionString"/> is required.</param>
    /// <param name="logger">The logger for background work; <see langword="null"/> for none.</param>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">An option is out of range.</exception>
    /// <exception cref="ArgumentException">Neither a connection string nor a data source is given.</exception>
    public PostgreSqlDistributedCache(PostgreSqlCacheOptions options, ILogger<PostgreSqlDistributedCache>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        PostgreSqlCacheOptionsValidator.EnsureValid(options, Microsoft.Extensions.Options.Options.DefaultName);

        _options = options;
        _sql = new SqlStatements(options.SchemaName, options.TableName);
        if (options.DataSource is { } dataSource)
        {
            _dataSource = dataSource;
        }
        else if (!string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            // The connect timeout of a data source we own never exceeds the operation bound (sync calls rely on it).
            var connection = new NpgsqlConnectionStringBuilder(options.ConnectionString);
            int bound = (int)Math.Clamp(Math.Ceiling(options.CommandTimeout.TotalSeconds), 1, int.MaxValue);
            if (connection.Timeout == 0 || connection.Timeout > bound)
            {
                connection.Timeout = bound;
            }

            _dataSource = NpgsqlDataSource.Create(connection);
            _ownsDataSource = true;
        }
        else
        {
            throw new ArgumentException(
                "PostgreSqlCacheOptions needs a ConnectionString or a DataSource (or an NpgsqlDataSource registered in DI).", nameof(options));
        }

        _time = options.TimeProvider ?? TimeProvider.System;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _nextPurgeTicks = (_time.GetUtcNow() + PurgeInterval).UtcTicks;
    }

    /// <summary>Gets the DDL that creates the schema, table and index this instance uses (for roles that may not run DDL).</summary>
    public string CreateTableScript => _sql.Create;

    /// <summary>Gets the quoted, schema-qualified name of the table.</summary>
    public string QualifiedTableName => _sql.Table;

    /// <summary>Gets the last background purge started (tests await it).</summary>
    internal Task LastPurge => _lastPurge;

    private TimeSpan PurgeInterval =>
        _options.ExpiredItemsDeletionInterval == Timeout.InfiniteTimeSpan ? TimeSpan.MaxValue / 2 : _options.ExpiredItemsDeletionInterval;

    /// <inheritdoc />
    public byte[]? Get(string key) => Run(Read(key, returnValue: true), static c => c.ExecuteScalar()) as byte[];

    /// <inheritdoc />
    public async Task<byte[]?> GetAsync(string key, CancellationToken token = default) =>
        await RunAsync(Read(key, returnValue: true), static (c, t) => c.ExecuteScalarAsync(t), token).ConfigureAwait(false) as byte[];

    /// <inheritdoc />
    bool IBufferDistributedCache.TryGet(string key, IBufferWriter<byte> destination) =>
        ((IBufferDistributedCache)this).TryGetAsync(key, destination).AsTask().GetAwaiter().GetResult();

    /// <inheritdoc />
    async ValueTask<bool> IBufferDistributedCache.TryGetAsync(string key, IBufferWriter<byte> destination, CancellationToken token)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var statement = new Statement(_sql.GetWithLength, Read(key, returnValue: true).Parameters);
        return (bool)(await RunAsync(statement, (command, t) => ReadIntoAsync(command, destination, t), token).ConfigureAwait(false))!;
    }

    /// <inheritdoc />
    void IBufferDistributedCache.Set(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options) => Set(key, value.ToArray(), options);

    /// <inheritdoc />
    ValueTask IBufferDistributedCache.SetAsync(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options, CancellationToken token) =>
        new(SetAsync(key, value.ToArray(), options, token));

    /// <inheritdoc />
    public void Set(string key, byte[] value, DistributedCacheEntryOptions options) =>
        Run(Write(key, value, options), static c => c.ExecuteNonQuery());

    /// <inheritdoc />
    public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default) =>
        RunAsync(Write(key, value, options), static (c, t) => c.ExecuteNonQueryAsync(t), token);

    /// <inheritdoc />
    public void Refresh(string key) => Run(Read(key, returnValue: false), static c => c.ExecuteNonQuery());

    /// <inheritdoc />
    public Task RefreshAsync(string key, CancellationToken token = default) =>
        RunAsync(Read(key, returnValue: false), static (c, t) => c.ExecuteNonQueryAsync(t), token);

    /// <inheritdoc />
    public void Remove(string key) => Run(Delete(key), static c => c.ExecuteNonQuery());

    /// <inheritdoc />
    public Task RemoveAsync(string key, CancellationToken token = default) =>
        RunAsync(Delete(key), static (c, t) => c.ExecuteNonQueryAsync(t), token);

    /// <summary>Deletes every expired row now (the cache also does it every <see cref="PostgreSqlCacheOptions.ExpiredItemsDeletionInterval"/>).</summary>
    /// <param name="token">Cancels the purge.</param>
    /// <returns>The number of rows deleted.</returns>
    public async Task<int> PurgeExpiredAsync(CancellationToken token = default)
    {
        var statement = new Statement(_sql.Purge, [Now()]);
        return (int)(await RunAsync(statement, static (c, t) => c.ExecuteNonQueryAsync(t), token, purge: false).ConfigureAwait(false))!;
    }

    /// <summary>Creates the schema, table and index when missing (done on first use when <see cref="PostgreSqlCacheOptions.CreateIfNotExists"/> is set).</summary>
    /// <param name="token">Cancels the operation.</param>
    /// <returns>A task that completes when the table exists.</returns>
    public async Task CreateTableAsync(CancellationToken token = default)
    {
        await _createGate.WaitAsync(token).ConfigureAwait(false);
        try
        {
            await using NpgsqlConnection connection = await _dataSource.OpenConnectionAsync(token).ConfigureAwait(false);
            await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync(token).ConfigureAwait(false);

            // CREATE … IF NOT EXISTS races between sessions (a unique violation on pg_type); nodes of a fleet start together.
            await using (var command = new NpgsqlCommand(_sql.Create, connection, transaction))
            {
                command.CommandTimeout = TimeoutSeconds;
                command.Parameters.Add(new NpgsqlParameter<long>("lock", _sql.LockKey));
                await command.ExecuteNonQueryAsync(token).ConfigureAwait(false);
            }

            await transaction.CommitAsync(token).ConfigureAwait(false);
            _tableReady = true;
            Log.TableReady(_logger, _sql.Table);
        }
        finally
        {
            _createGate.Release();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsDataSource)
        {
            _dataSource.Dispose();
        }

        _createGate.Dispose();
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_ownsDataSource)
        {
            await _dataSource.DisposeAsync().ConfigureAwait(false);
        }

        _createGate.Dispose();
    }

    private int TimeoutSeconds => (int)Math.Clamp(Math.Ceiling(_options.CommandTimeout.TotalSeconds), 1, int.MaxValue);

    private NpgsqlParameter<DateTimeOffset> Now() => new NpgsqlParameter<DateTimeOffset>("now", NpgsqlDbType.TimestampTz) { TypedValue = _time.GetUtcNow() };

    private Statement Read(string key, bool returnValue)
    {
        ArgumentNullException.ThrowIfNull(key);
        return new Statement(returnValue ? _sql.Get : _sql.Refresh, [new NpgsqlParameter<string>("id", key), Now()]);
    }

    /// <summary>
    /// Reads the row's size, asks <paramref name="destination"/> for that much (it may refuse, by throwing), then streams
    /// the value into it. Sequential access: a refused value is skipped on the wire, never buffered.
    /// </summary>
    private static async Task<bool> ReadIntoAsync(NpgsqlCommand command, IBufferWriter<byte> destination, CancellationToken token)
    {
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(CommandBehavior.SequentialAccess | CommandBehavior.SingleRow, token).ConfigureAwait(false);
        if (!await reader.ReadAsync(token).ConfigureAwait(false))
        {
            return false;
        }

        int length = reader.GetInt32(0);
        Memory<byte> target = destination.GetMemory(length)[..length];
        await using (Stream value = await reader.GetStreamAsync(1, token).ConfigureAwait(false))
        {
            await value.ReadExactlyAsync(target, token).ConfigureAwait(false);
        }

        destination.Advance(length);
        return true;
    }

    private Statement Delete(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return new Statement(_sql.Delete, [new NpgsqlParameter<string>("id", key)]);
    }

    private Statement Write(string key, byte[] value, DistributedCacheEntryOptions options)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(options);
        if (options.SlidingExpiration is { } slidingCheck)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(slidingCheck, TimeSpan.Zero, nameof(options));
        }

        DateTimeOffset now = _time.GetUtcNow();
        DateTimeOffset? absolute = (options.AbsoluteExpiration ?? (options.AbsoluteExpirationRelativeToNow is { } relative ? now + relative : null))?.ToUniversalTime();
        if (absolute <= now)
        {
            // Already expired: nothing may be readable under the key afterwards (the file-system store does the same).
            return Delete(key);
        }

        TimeSpan? sliding = options.SlidingExpiration;
        DateTimeOffset? expires = sliding is { } s
            ? (absolute is { } a && a < now + s ? a : now + s)
            : absolute;

        return new Statement(_sql.Upsert,
        [
            new NpgsqlParameter<string>("id", key),
            new NpgsqlParameter<byte[]>("value", NpgsqlDbType.Bytea) { TypedValue = value },
            NullableParameter("expires", expires, NpgsqlDbType.TimestampTz),
            NullableParameter("sliding", sliding, NpgsqlDbType.Interval),
            NullableParameter("absolute", absolute, NpgsqlDbType.TimestampTz),
        ]);
    }

    private static NpgsqlParameter NullableParameter<T>(string name, T? value, NpgsqlDbType type)
        where T : struct =>
        new(name, type) { Value = value is { } v ? v : DBNull.Value };

    /// <summary>One SQL statement with its parameters, built before any I/O so argument errors throw synchronously.</summary>
    private sealed record Statement(string Sql, NpgsqlParameter[] Parameters);
}
