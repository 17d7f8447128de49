using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Ocsp.Stapling;
using Ocsp.Stapling.Internal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Configuration of OCSP stapling after <c>AddOcspStapling()</c>: certificates to keep stapled, shared cache backend, HTTP client.</summary>
public static class OcspStaplingBuilderExtensions
{
    /// <summary>Keeps <paramref name="certificate"/> stapled from start-up.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="certificate">The server certificate.</param>
    /// <param name="issuer">Its issuer's certificate.</param>
    /// <returns>The builder.</returns>
    public static IOcspStaplingBuilder AddCertificate(this IOcspStaplingBuilder builder, X509Certificate2 certificate, X509Certificate2 issuer)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(issuer);
        CertificateNames.EnsureIssuedBy(certificate, issuer, nameof(issuer));

        builder.Services.AddSingleton(new OcspCertificatePair(certificate, issuer));
        return builder;
    }

    /// <summary>Keeps the certificate in a PEM or DER file stapled; its issuer comes from <paramref name="issuerPath"/> or the second certificate of a PEM chain.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="path">The certificate or chain file.</param>
    /// <param name="issuerPath">The issuer file, when <paramref name="path"/> holds only the leaf.</param>
    /// <returns>The builder.</returns>
    public static IOcspStaplingBuilder AddCertificateFile(this IOcspStaplingBuilder builder, string path, string? issuerPath = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        builder.Services.Configure<OcspStaplingOptions>(o => o.Certificates.Add(new OcspCertificateFile { Path = path, IssuerPath = issuerPath }));
        return builder;
    }

    /// <summary>Uses the file-system store as the shared cache (the default), in <paramref name="directory"/>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="directory">The directory; <see langword="null"/> for <see cref="OcspSharedStoreOptions.Directory"/> or its default.</param>
    /// <returns>The builder.</returns>
    public static IOcspStaplingBuilder UseFileSystemCache(this IOcspStaplingBuilder builder, string? directory = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (directory is not null)
        {
            builder.Services.Configure<OcspStaplingOptions>(o => o.SharedStore.Directory = directory);
        }

        return UseSharedCache(builder, static sp => OcspStaplingServiceCollectionExtensions.FileSystemCache(sp, directory: null));
    }

    /// <summary>Uses the application's registered <see cref="IDistributedCache"/> (Redis, SQL Server, PostgreSQL…) as the shared cache.</summary>
    /// <param name="builder">The builder.</param>
    /// <returns>The builder.</returns>
    public static IOcspStaplingBuilder UseDistributedCache(this IOcspStaplingBuilder builder) =>
        UseDistributedCache(builder, static sp => sp.GetRequiredService<IDistributedCache>());

    /// <summary>Uses the <see cref="IDistributedCache"/> built by <paramref name="factory"/> as the shared cache.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="factory">Creates the cache.</param>
    /// <returns>The builder.</returns>
    public static IOcspStaplingBuilder UseDistributedCache(this IOcspStaplingBuilder builder, Func<IServiceProvider, IDistributedCache> factory)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(factory);
        return UseSharedCache(builder, factory);
    }

    /// <summary>Keeps staples in memory only: nothing survives a restart and nothing is shared. Not recommended for must-staple certificates.</summary>
    /// <param name="builder">The builder.</param>
    /// <returns>The builder.</returns>
    public static IOcspStaplingBuilder UseMemoryOnly(this IOcspStaplingBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return UseSharedCache(builder, static _ => NoSharedCache.Instance);
    }

    /// <summary>Configures the named <see cref="HttpClient"/> used to reach responders (proxy, handlers, headers).</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Configures the client builder.</param>
    /// <returns>The builder.</returns>
    public static IOcspStaplingBuilder ConfigureHttpClient(this IOcspStaplingBuilder builder, Action<IHttpClientBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        configure(builder.Services.AddHttpClient(OcspFetchOptions.HttpClientName));
        return builder;
    }

    /// <summary>The one way a backend is chosen: the keyed <see cref="IDistributedCache"/> under <see cref="OcspStaplingServiceKeys.SharedCache"/>, replaced.</summary>
    private static IOcspStaplingBuilder UseSharedCache(IOcspStaplingBuilder builder, Func<IServiceProvider, IDistributedCache> factory)
    {
        builder.Services.RemoveAllKeyed<IDistributedCache>(OcspStaplingServiceKeys.SharedCache);
        builder.Services.AddKeyedSingleton(OcspStaplingServiceKeys.SharedCache, (sp, _) => factory(sp));
        return builder;
    }
}
