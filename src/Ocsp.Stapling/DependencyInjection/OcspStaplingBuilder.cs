using Microsoft.Extensions.DependencyInjection;

namespace Ocsp.Stapling.Internal;

internal sealed class OcspStaplingBuilder(IServiceCollection services) : IOcspStaplingBuilder
{
    public IServiceCollection Services { get; } = services;
}
