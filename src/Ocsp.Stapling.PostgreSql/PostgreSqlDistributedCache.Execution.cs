using Npgsql;
using Ocsp.Stapling.PostgreSql.Internal;

namespace Ocsp.Stapling.PostgreSql;

public sealed partial class PostgreSqlDistributedCache
{
    private async Task<object?> RunAsync<T>(Statement statement, Func<NpgsqlCommand, CancellationToken, Task<T>> execute, CancellationToken token, bool purge = true)
    {
        token.ThrowIfCancellationRequested();

        // One bound for the whole operation (pool wait, connect, table creation, command): a dead server costs at most this.
        // WaitAsync as well as the token: Npgsql does not abort every phase of a connection attempt on cancellation.
        using var timeout = new CancellationTokenSource(_options.CommandTimeout, _time);
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(token, timeout.Token);
        try
        {
            object? result = await RunCoreAsync(statement, execute, bounded.Token).WaitAsync(bounded.Token).ConfigureAwait(false);
            if (purge)
            {
                SchedulePurge();
            }

            return result;
        }
        catch (Exception ex) when (Translate(ex, token) is { } translated)
        {
            throw translated;
        }
    }

    private async Task<object?> RunCoreAsync<T>(Statement statement, Func<NpgsqlCommand, CancellationToken, Task<T>> execute, CancellationToken token)
    {
        if (!_tableReady && _options.CreateIfNotExists)
        {
            await CreateTableAsync(token).ConfigureAwait(false);
        }

        await using NpgsqlCommand command = Command(statement);
        return await execute(command, token).ConfigureAwait(false);
    }

    private object? Run<T>(Statement statement, Func<NpgsqlCommand, T> execute)
    {
        try
        {
            if (!_tableReady && _options.CreateIfNotExists)
            {
                // Table creation happens once; the synchronous API shares the asynchronous path for it.
                using var bounded = new CancellationTokenSource(_options.CommandTimeout, _time);
                CreateTableAsync(bounded.Token).GetAwaiter().GetResult();
            }

            using NpgsqlCommand command = Command(statement);
            object? result = execute(command);
            SchedulePurge();
            return result;
        }
        catch (Exception ex) when (Translate(ex, CancellationToken.None) is { } translated)
        {
            throw translated;
        }
    }

    private NpgsqlCommand Command(Statement statement)
    {
        NpgsqlCommand command = _dataSource.CreateCommand(statement.Sql);
        command.CommandTimeout = TimeoutSeconds;
        command.Parameters.AddRange(statement.Parameters);
        return command;
    }

    /// <summary>
    /// What a caller is told: a timeout (ours, or Npgsql's) as <see cref="TimeoutException"/> naming the table and the bound,
    /// a missing table with how to create it; anything else (and the caller's own cancellation) passes unchanged.
    /// </summary>
    private Exception? Translate(Exception exception, CancellationToken callerToken) => exception switch
    {
        OperationCanceledException when !callerToken.IsCancellationRequested => TimedOut(exception),
        PostgresException { SqlState: PostgresErrorCodes.UndefinedTable } => MissingTable(exception),
        NpgsqlException { InnerException: TimeoutException } => TimedOut(exception),
        _ => null,
    };

    private TimeoutException TimedOut(Exception inner) =>
        new($"The PostgreSQL cache operation on {_sql.Table} did not complete within {_options.CommandTimeout.TotalSeconds:0.###} s.", inner);

    private InvalidOperationException MissingTable(Exception inner) =>
        new($"The PostgreSQL cache table {_sql.Table} does not exist. Create it with PostgreSqlDistributedCache.CreateTableScript, or set CreateIfNotExists.", inner);

    /// <summary>Starts a background purge when the interval has passed; at most one runs at a time, and it never fails a caller.</summary>
    private void SchedulePurge()
    {
        DateTimeOffset now = _time.GetUtcNow();
        if (now.UtcTicks < Interlocked.Read(ref _nextPurgeTicks) || Interlocked.CompareExchange(ref _purging, 1, 0) != 0)
        {
            return;
        }

        Interlocked.Exchange(ref _nextPurgeTicks, (now + PurgeInterval).UtcTicks);
        _lastPurge = Task.Run(async () =>
        {
            try
            {
                int deleted = await PurgeExpiredAsync().ConfigureAwait(false);
                Log.Purged(_logger, _sql.Table, deleted);
            }
#pragma warning disable CA1031 // Background housekeeping: log and try again at the next interval.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.PurgeFailed(_logger, _sql.Table, ex);
            }
            finally
            {
                Volatile.Write(ref _purging, 0);
            }
        });
    }
}
