using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Ocsp.Stapling.Tool;

/// <summary>
/// Fetches validated responses through the library's provider (retries, every AIA URL, validation), with no scheduler:
/// memory only, or through a shared store (<c>renew --redis</c>, <c>--postgres</c>, <c>--cache</c>) read first and written back.
/// </summary>
internal sealed class ResponseFetcher : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly OcspCertificateRegistry _registry;

    public ResponseFetcher(
        IReadOnlyDictionary<string, string>? responderOverrides = null, bool verbose = false, StoreOptions.Choice? store = null, Action<OcspStaplingOptions>? configure = null)
    {
        var services = new ServiceCollection();
        services.AddLogging(logging =>
        {
            if (verbose)
            {
                logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Debug);
            }
        });
        IOcspStaplingBuilder stapling = services.AddOcspStapling(options =>
        {
            options.Refresh.Jitter = 0;
            foreach ((string thumbprint, string url) in responderOverrides ?? new Dictionary<string, string>())
            {
                options.Fetch.ResponderOverrides[thumbprint] = url;
            }

            configure?.Invoke(options);
        });
        if (store is null)
        {
            stapling.UseMemoryOnly();
        }
        else
        {
            store.Apply(stapling);
        }

        _services = services.BuildServiceProvider();
        _registry = _services.GetRequiredService<OcspCertificateRegistry>();
    }

    /// <summary>The validated response (any status), or the reason there is none.</summary>
    public async Task<(OcspStaple? Staple, string? Failure)> FetchAsync(CertificatePair pair, CancellationToken cancellationToken)
    {
        _registry.Register(pair.Certificate, pair.Issuer);
        OcspRefreshResult result = await _registry.RefreshAsync(pair.Certificate, cancellationToken).ConfigureAwait(false);
        if (result.Response is { } response)
        {
            return (response, null);
        }

        return (null, result.Failure is { Reason: OcspFailureReason.NoResponder or OcspFailureReason.Disabled }
            ? "the certificate has no OCSP responder URL (give one with --url)"
            : result.Failure?.ToString());
    }

    public ValueTask DisposeAsync() => _services.DisposeAsync();
}
