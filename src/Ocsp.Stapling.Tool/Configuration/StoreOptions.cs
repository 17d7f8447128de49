using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using StackExchange.Redis;

namespace Ocsp.Stapling.Tool;

/// <summary>
/// The shared store of <c>serve</c> and <c>renew</c>: <c>--cache DIR</c> (files), <c>--redis</c> or <c>--postgres</c>, one
/// at most. Connection strings are checked before anything starts (exit 64 with the reason); a store that is down is
/// not a start-up error: every store call is bounded, logged, and the responder is asked instead.
/// </summary>
internal sealed class StoreOptions
{
    private StoreOptions(Option<string?> cache, string cacheDescription)
    {
        Cache = cache;
        Cache.Description = cacheDescription;
    }

    public Option<string?> Cache { get; }

    public Option<string?> Redis { get; } = new("--redis")
    {
        Description = "Share responses through Redis: a StackExchange.Redis configuration, e.g. redis.internal:6379,password=… (exclusive with --cache and --postgres).",
    };

    public Option<string?> Postgres { get; } = new("--postgres")
    {
        Description = "Share responses through PostgreSQL: an Npgsql connection string, e.g. \"Host=db;Username=ocsp;Password=…\" (exclusive with --cache and --redis).",
    };

    public static StoreOptions Create(string cacheDescription) => new(new Option<string?>("--cache"), cacheDescription);

    public void AddTo(Command command)
    {
        command.Options.Add(Cache);
        command.Options.Add(Redis);
        command.Options.Add(Postgres);
    }

    /// <summary>What the command line chose, checked: <see langword="null"/> for <c>--cache</c> (or nothing).</summary>
    /// <exception cref="ToolException">More than one store, or a connection string that cannot be parsed (64).</exception>
    public Choice Parse(ParseResult result)
    {
        string? cache = result.GetValue(Cache);
        string? redis = result.GetValue(Redis);
        string? postgres = result.GetValue(Postgres);
        if (new[] { cache, redis, postgres }.Count(v => v is not null) > 1)
        {
            throw new ToolException(ExitCodes.Usage, "Give one shared store at most: --cache, --redis or --postgres.");
        }

        if (cache is not null && string.IsNullOrWhiteSpace(cache))
        {
            throw new ToolException(ExitCodes.Usage, "--cache needs a directory.");
        }

        if (redis is not null)
        {
            try
            {
                ConfigurationOptions options = ConfigurationOptions.Parse(redis);
                if (options.EndPoints.Count == 0)
                {
                    throw new ArgumentException("it names no server");
                }
            }
            catch (ArgumentException ex)
            {
                throw new ToolException(ExitCodes.Usage, $"--redis '{redis}' is not a StackExchange.Redis configuration: {ex.Message}");
            }
        }

        if (postgres is not null)
        {
            try
            {
                var builder = new NpgsqlConnectionStringBuilder(postgres);
                if (string.IsNullOrWhiteSpace(builder.Host))
                {
                    throw new ArgumentException("it names no Host");
                }
            }
            catch (ArgumentException ex)
            {
                throw new ToolException(ExitCodes.Usage, $"--postgres is not an Npgsql connection string: {ex.Message}");
            }
        }

        return new Choice(cache, redis, postgres);
    }

    /// <summary>A checked choice of store.</summary>
    internal sealed record Choice(string? Directory, string? Redis, string? Postgres)
    {
        /// <summary>Gets a value indicating whether no store was named (renew then keeps responses in memory only).</summary>
        public bool IsNone => Directory is null && Redis is null && Postgres is null;

        public string Describe() =>
            Redis is not null ? $"Redis {ConfigurationOptions.Parse(Redis).EndPoints.First()}"
            : Postgres is not null ? $"PostgreSQL {new NpgsqlConnectionStringBuilder(Postgres).Host}"
            : $"files in {Directory ?? "the default directory"}";

        public IOcspStaplingBuilder Apply(IOcspStaplingBuilder builder)
        {
            if (Redis is not null)
            {
                // abortConnect=false: a Redis that is down at start is retried in the background, not a start-up failure.
                ConfigurationOptions options = ConfigurationOptions.Parse(Redis);
                options.AbortOnConnectFail = false;
                // No instance name: the keys are the library's own ("ocsp-stapling:<CertID>"), as an app using UseDistributedCache() writes them.
                return builder.UseDistributedCache(_ => new RedisStore(options));
            }

            return Postgres is not null ? builder.UsePostgreSqlCache(Postgres) : builder.UseFileSystemCache(Directory);
        }
    }
}
