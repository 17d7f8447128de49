using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

using Ocsp.Stapling.Internal;

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

    /// <summary>
    /// A CRL of <paramref name="ca"/> from <paramref name="url"/>, fetched as the library fetches one (outbound proxy,
    /// limits, retries, size cap) and validated (<c>CrlValidation</c>; never older than <paramref name="held"/>); or the
    /// reason there is none.
    /// </summary>
    public async Task<(ParsedCrl? Crl, string? Failure)> FetchCrlAsync(X509Certificate2 ca, Uri url, ParsedCrl? held, CancellationToken cancellationToken)
    {
        OcspStaplingOptions options = _services.GetRequiredService<Microsoft.Extensions.Options.IOptions<OcspStaplingOptions>>().Value;
        int maxSize = options.ClientCertificates.MaxCrlSize;
        FetchOutcome outcome = await _services.GetRequiredService<OcspFetcher>().FetchCrlAsync(
            [url],
            maxSize,
            (body, from) =>
            {
                if (body.Length > maxSize)
                {
                    return FetchOutcome.TooLarge($"the CRL is over the {maxSize}-byte limit");
                }

                try
                {
                    ParsedCrl crl = ParsedCrl.Parse(body);
                    return CrlValidation.Check(crl, ca, from, TimeProvider.System.GetUtcNow(), options.Validation.MaxClockSkew, held) is { } refusal
                        ? FetchOutcome.Fail(OcspFailureReason.InvalidResponse, $"the CRL is refused: {refusal}", FailureScope.Request)
                        : FetchOutcome.Success(crl);
                }
                catch (OcspFormatException ex)
                {
                    return FetchOutcome.Fail(OcspFailureReason.InvalidResponse, ex.Message, FailureScope.Request);
                }
            },
            cancellationToken).ConfigureAwait(false);
        return (outcome.Crl, outcome.Crl is null ? outcome.Message : null);
    }

    public ValueTask DisposeAsync() => _services.DisposeAsync();
}
