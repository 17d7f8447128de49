using Microsoft.Extensions.Logging;

namespace Ocsp.Stapling.PostgreSql.Internal;

internal static partial class Log
{
    [LoggerMessage(201, LogLevel.Debug, "PostgreSQL cache table {Table} is ready.")]
    public static partial void TableReady(ILogger logger, string table);

    [LoggerMessage(202, LogLevel.Debug, "Deleted {Count} expired rows from {Table}.")]
    public static partial void Purged(ILogger logger, string table, int count);

    [LoggerMessage(203, LogLevel.Warning, "Deleting expired rows from {Table} failed; trying again at the next interval.")]
    public static partial void PurgeFailed(ILogger logger, string table, Exception exception);
}
