using Microsoft.Extensions.DependencyInjection;

namespace Ocsp.Stapling;

/// <summary>Configures OCSP stapling after <c>AddOcspStapling()</c> (<see cref="OcspStaplingServiceCollectionExtensions"/>).</summary>
public interface IOcspStaplingBuilder
{
    /// <summary>Gets the service collection.</summary>
    IServiceCollection Services { get; }
}
