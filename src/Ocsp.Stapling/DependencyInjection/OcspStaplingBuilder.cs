using Microsoft.Extensions.DependencyInjection;

namespace Ocsp.Stapling.Internal;

internal sealed class OcspStaplingBuilder(IServiceCollection services, OcspCacheSelection cache) : IOcspStaplingBuilder
{
    public IServiceCollection Services { get; } = services;

    public OcspCacheSelection Cache { get; } = cache;
}

/// <summary>Which shared (L2) cache the provider uses. Default: the file-system store.</summary>
internal sealed class OcspCacheSelection
{
    public Func<IServiceProvider, Microsoft.Extensions.Caching.Distributed.IDistributedCache?>? Factory { get; set; }
}
