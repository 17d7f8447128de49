using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Ocsp.Stapling;
using Ocsp.Stapling.PostgreSql;
using Ocsp.Stapling.PostgreSql.Internal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Makes PostgreSQL the shared staple store of Ocsp.Stapling (after <c>AddOcspStapling()</c>).</summary>
public static class PostgreSqlCacheBuilderExtensions
{
    /// <summary>The options name and service key of the store used by Ocsp.Stapling (distinct from any application-wide <c>IDistributedCache</c>).</summary>
    internal const string ServiceKey = "Ocsp.Stapling.PostgreSql";

    /// <summary>Stores staples in PostgreSQL through <paramref name="connectionString"/>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="connectionString">The Npgsql connection string.</param>
    /// <param name="configure">Further options (schema, table, timeouts); may be <see langword="null"/>.</param>
    /// <returns>The builder.</returns>
    public static IOcspStaplingBuilder UsePostgreSqlCache(this IOcspStaplingBuilder builder, string connectionString, Action<PostgreSqlCacheOptions>? configure = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        return UsePostgreSqlCache(builder, options =>
        {
            options.ConnectionString = connectionString;
            configure?.Invoke(options);
        });
    }

    /// <summary>Stores staples in PostgreSQL; without a connection string or data source, the <c>NpgsqlDataSource</c> registered in DI is used.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Configures the store.</param>
    /// <returns>The builder.</returns>
    public static IOcspStaplingBuilder UsePostgreSqlCache(this IOcspStaplingBuilder builder, Action<PostgreSqlCacheOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.AddOptions<PostgreSqlCacheOptions>(ServiceKey).Configure(configure).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PostgreSqlCacheOptions>, PostgreSqlCacheOptionsValidator>());
        builder.Services.AddKeyedSingleton(ServiceKey, static (sp, _) =>
            PostgreSqlCacheServiceCollectionExtensions.Create(sp, sp.GetRequiredService<IOptionsMonitor<PostgreSqlCacheOptions>>().Get(ServiceKey)));
        return builder.UseDistributedCache(static sp => sp.GetRequiredKeyedService<PostgreSqlDistributedCache>(ServiceKey));
    }
}
