using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ocsp.Stapling.Internal;

/// <summary>
/// Registers the certificates given at configuration time (builder calls and <see cref="OcspStaplingOptions.Certificates"/>
/// files) when the host starts: the first of the provider's hosted services, so that the refresh service then finds
/// them in the shared store.
/// </summary>
internal sealed class OcspStartupCertificates : IHostedService
{
    private readonly IOptions<OcspStaplingOptions> _options;
    private readonly IReadOnlyList<(X509Certificate2 Certificate, X509Certificate2 Issuer)> _pairs;
    private readonly OcspCertificateRegistry _registry;
    private readonly ILogger<OcspStartupCertificates> _logger;

    public OcspStartupCertificates(
        IOptions<OcspStaplingOptions> options, IEnumerable<OcspCertificatePair> pairs, OcspCertificateRegistry registry, ILogger<OcspStartupCertificates> logger)
    {
        _options = options;
        _pairs = pairs.Select(p => (p.Certificate, p.Issuer)).ToArray();
        _registry = registry;
        _logger = logger;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        RegisterAll();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private void RegisterAll()
    {
        var loaded = new List<(X509Certificate2 Certificate, X509Certificate2 Issuer)>(_pairs);

        // A configured file that cannot be loaded fails start-up, naming it: a certificate silently left unstapled is worse.
        var errors = new List<string>();
        IList<OcspCertificateFile> files = _options.Value.Certificates;
        for (int i = 0; i < files.Count; i++)
        {
            OcspCertificateFile file = files[i];
            try
            {
                loaded.Add(OcspServerCertificateFiles.LoadWithIssuer(file.Path, file.IssuerPath));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or ArgumentException or InvalidOperationException)
            {
                Log.CertificateFileError(_logger, file.Path, ex.Message);
                errors.Add($"OcspStaplingOptions.Certificates[{i}] ('{file.Path}'{(file.IssuerPath is null ? "" : $", issuer '{file.IssuerPath}'")}): {ex.Message}");
            }
        }

        if (errors.Count > 0)
        {
            throw new InvalidOperationException("Cannot load the certificates to keep stapled: " + string.Join("; ", errors));
        }

        if (loaded.Count > 0)
        {
            _registry.RegisterAll(loaded);
        }
    }
}

/// <summary>A certificate and its issuer added through the builder.</summary>
internal sealed record OcspCertificatePair(X509Certificate2 Certificate, X509Certificate2 Issuer);
