using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Ocsp.Stapling.PostgreSql;
using Ocsp.Stapling.PostgreSql.Internal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers <see cref="PostgreSqlDistributedCache"/> as the application's <see cref="IDistributedCache"/>.</summary>
public static class PostgreSqlCacheServiceCollectionExtensions
{
    /// <summary>Registers a <see cref="PostgreSqlDistributedCache"/> as <see cref="IDistributedCache"/> (for sessions, output caching, or Ocsp.Stapling's <c>UseDistributedCache()</c>).</summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Configures the cache; without a connection string or data source, the <see cref="NpgsqlDataSource"/> registered in DI is used.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddPostgreSqlDistributedCache(this IServiceCollection services, Action<PostgreSqlCacheOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<PostgreSqlCacheOptions>().Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PostgreSqlCacheOptions>, PostgreSqlCacheOptionsValidator>());
        services.TryAddSingleton(sp => Create(sp, sp.GetRequiredService<IOptions<PostgreSqlCacheOptions>>().Value));
        services.Replace(ServiceDescriptor.Singleton<IDistributedCache>(sp => sp.GetRequiredService<PostgreSqlDistributedCache>()));
        return services;
    }

    /// <summary>Creates the cache from <paramref name="options"/>, filling the data source and clock from DI when they are not set.</summary>
    internal static PostgreSqlDistributedCache Create(IServiceProvider services, PostgreSqlCacheOptions options)
    {
        var resolved = new PostgreSqlCacheOptions
        {
            ConnectionString = options.ConnectionString,
            DataSource = options.DataSource
                ?? (string.IsNullOrWhiteSpace(options.ConnectionString) ? services.GetService<NpgsqlDataSource>() : null),
            SchemaName = options.SchemaName,
            TableName = options.TableName,
            CreateIfNotExists = options.CreateIfNotExists,
            CommandTimeout = options.CommandTimeout,
            ExpiredItemsDeletionInterval = options.ExpiredItemsDeletionInterval,
            TimeProvider = options.TimeProvider ?? services.GetService<TimeProvider>(),
        };
        return new PostgreSqlDistributedCache(resolved, services.GetService<ILogger<PostgreSqlDistributedCache>>());
    }
}
