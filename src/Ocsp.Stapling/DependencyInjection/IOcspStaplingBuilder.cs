using Microsoft.Extensions.DependencyInjection;

namespace Ocsp.Stapling;

/// <summary>Configures OCSP stapling after <see cref="OcspStaplingServiceCollectionExtensions.AddOcspStapling(IServiceCollection)"/>.</summary>
public interface IOcspStaplingBuilder
{
    /// <summary>Gets the service collection.</summary>
    IServiceCollection Services { get; }
}
