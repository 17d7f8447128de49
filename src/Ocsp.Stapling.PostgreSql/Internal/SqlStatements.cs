using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Ocsp.Stapling.PostgreSql.Internal;

/// <summary>
/// The SQL of one cache table. Names are quoted identifiers (never concatenated raw); values are always parameters.
/// A NULL <c>expires_at</c> means "never"; sliding entries move <c>expires_at</c> forward, capped by <c>absolute_expiration</c>.
/// </summary>
internal sealed class SqlStatements
{
    private const int MaxIdentifierBytes = 63; // NAMEDATALEN - 1: PostgreSQL would silently truncate longer names.

    public SqlStatements(string schema, string table)
    {
        string quotedSchema = Quote(schema, nameof(schema));
        Table = quotedSchema + "." + Quote(table, nameof(table));
        string index = Quote(Truncate(table + "_expires_at_idx"), nameof(table));
        LockKey = BinaryPrimitives.ReadInt64BigEndian(SHA256.HashData(Encoding.UTF8.GetBytes("ocsp-stapling-cache:" + Table)));

        Create = $"""
            SELECT pg_advisory_xact_lock(@lock);
            CREATE SCHEMA IF NOT EXISTS {quotedSchema};
            CREATE TABLE IF NOT EXISTS {Table} (
                id text NOT NULL PRIMARY KEY,
                value bytea NOT NULL,
                expires_at timestamptz NULL,
                sliding_expiration interval NULL,
                absolute_expiration timestamptz NULL
            );
            CREATE INDEX IF NOT EXISTS {index} ON {Table} (expires_at);
            """;
        Get = $"""
            WITH hit AS (
                SELECT id, value, sliding_expiration FROM {Table}
                WHERE id = @id AND (expires_at IS NULL OR expires_at > @now)
            ), touched AS (
                UPDATE {Table} AS t SET expires_at = LEAST(t.absolute_expiration, @now + t.sliding_expiration)
                FROM hit WHERE t.id = hit.id AND hit.sliding_expiration IS NOT NULL
            )
            SELECT value FROM hit
            """;

        // The size first, so that a reader can refuse an oversized value before reading it (sequential access).
        GetWithLength = Get.Replace("SELECT value FROM hit", "SELECT octet_length(value), value FROM hit", StringComparison.Ordinal);
        Refresh = $"""
            UPDATE {Table} SET expires_at = LEAST(absolute_expiration, @now + sliding_expiration)
            WHERE id = @id AND sliding_expiration IS NOT NULL AND expires_at > @now
            """;
        Upsert = $"""
            INSERT INTO {Table} (id, value, expires_at, sliding_expiration, absolute_expiration)
            VALUES (@id, @value, @expires, @sliding, @absolute)
            ON CONFLICT (id) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at,
                sliding_expiration = EXCLUDED.sliding_expiration, absolute_expiration = EXCLUDED.absolute_expiration
            """;
        Delete = $"DELETE FROM {Table} WHERE id = @id";
        Purge = $"DELETE FROM {Table} WHERE expires_at <= @now";
    }

    public string Table { get; }

    public long LockKey { get; }

    public string Create { get; }

    public string Get { get; }

    public string GetWithLength { get; }

    public string Refresh { get; }

    public string Upsert { get; }

    public string Delete { get; }

    public string Purge { get; }

    internal static string Quote(string name, string parameter)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name, parameter);
        if (Encoding.UTF8.GetByteCount(name) > MaxIdentifierBytes || name.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{name}' is not a valid PostgreSQL identifier (at most {MaxIdentifierBytes} bytes, no NUL).", parameter);
        }

        return "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
    }

    private static string Truncate(string name)
    {
        while (Encoding.UTF8.GetByteCount(name) > MaxIdentifierBytes)
        {
            name = name[..^1];
        }

        return name;
    }
}
