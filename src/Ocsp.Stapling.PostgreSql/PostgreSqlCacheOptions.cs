using System.ComponentModel.DataAnnotations;
using Npgsql;
using Ocsp.Stapling.Internal;

namespace Ocsp.Stapling.PostgreSql;

/// <summary>Options of <see cref="PostgreSqlDistributedCache"/>, checked by a generated validator when the host starts (and when the cache is constructed directly).</summary>
public sealed class PostgreSqlCacheOptions : IValidatableObject
{
    /// <summary>Gets or sets the Npgsql connection string. Ignored when <see cref="DataSource"/> is set.</summary>
    /// <value>The default value is <see langword="null"/>: the <see cref="NpgsqlDataSource"/> registered in DI is used.</value>
    public string? ConnectionString { get; set; }

    /// <summary>Gets or sets the data source to use; the cache does not dispose it.</summary>
    /// <value>The default value is <see langword="null"/>.</value>
    public NpgsqlDataSource? DataSource { get; set; }

    /// <summary>Gets or sets the schema holding the table.</summary>
    /// <value>The default value is <c>public</c>.</value>
    [Required]
    public string SchemaName { get; set; } = "public";

    /// <summary>Gets or sets the table name.</summary>
    /// <value>The default value is <c>ocsp_stapling_cache</c>.</value>
    [Required]
    public string TableName { get; set; } = "ocsp_stapling_cache";

    /// <summary>Gets or sets a value indicating whether the schema, table and index are created on first use when missing.</summary>
    /// <value>The default value is <see langword="true"/>. Turn it off when the application's role may not run DDL; create the table with <see cref="PostgreSqlDistributedCache.CreateTableScript"/>.</value>
    public bool CreateIfNotExists { get; set; } = true;

    /// <summary>Gets or sets the time limit of one cache operation, connecting included.</summary>
    /// <value>The default value is 5 seconds.</value>
    [TimeSpanRange(OptionRanges.Zero, OptionRanges.MaxTimeSpan, MinimumIsExclusive = true)]
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets how often expired rows are deleted in the background (expired rows are never returned in between).</summary>
    /// <value>The default value is 30 minutes; <see cref="Timeout.InfiniteTimeSpan"/> turns the purge off.</value>
    public TimeSpan ExpiredItemsDeletionInterval { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Gets or sets the clock used for expirations.</summary>
    /// <value>The default value is <see langword="null"/>: the <see cref="System.TimeProvider"/> registered in DI, else the system clock.</value>
    public TimeProvider? TimeProvider { get; set; }

    /// <inheritdoc />
    IEnumerable<ValidationResult> IValidatableObject.Validate(ValidationContext validationContext)
    {
        if (ExpiredItemsDeletionInterval != Timeout.InfiniteTimeSpan && ExpiredItemsDeletionInterval <= TimeSpan.Zero)
        {
            yield return new ValidationResult(
                $"PostgreSqlCacheOptions.ExpiredItemsDeletionInterval must be positive, or Timeout.InfiniteTimeSpan to turn the purge off (was {ExpiredItemsDeletionInterval}).",
                [nameof(ExpiredItemsDeletionInterval)]);
        }
    }
}
