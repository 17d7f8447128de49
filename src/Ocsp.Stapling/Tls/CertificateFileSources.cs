using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace Ocsp.Stapling.Internal;

/// <summary>The watched certificate files, one <see cref="OcspCertificateFileSource"/> per set of files (the same files give the same source).</summary>
internal sealed class CertificateFileSources(IStapledContexts contexts, OcspTlsOptions options, TimeProvider time, ILogger logger) : IDisposable
{
    private readonly object _gate = new();
    private readonly Dictionary<string, OcspCertificateFileSource> _sources = new(StringComparer.Ordinal);

    /// <summary>The watched sources (tests).</summary>
    public IReadOnlyCollection<OcspCertificateFileSource> All
    {
        get
        {
            lock (_gate)
            {
                return [.. _sources.Values];
            }
        }
    }

    /// <summary>The source of the files <paramref name="key"/> names: the existing one, or a new one whose first certificate is loaded now.</summary>
    /// <param name="key">What identifies the files (kind, paths, password hash).</param>
    /// <param name="files">The files, as full paths.</param>
    /// <param name="load">Loads the certificate and chain from them; throws naming the file.</param>
    /// <param name="servedAtOnce">Whether the first certificate is served before start-up prepares it.</param>
    public OcspCertificateFileSource Watch(string key, string[] files, Func<(X509Certificate2 Certificate, X509Certificate2Collection Chain)> load, bool servedAtOnce)
    {
        lock (_gate)
        {
            if (_sources.TryGetValue(key, out OcspCertificateFileSource? known) && !known.IsDisposed)
            {
                return known;
            }
        }

        (X509Certificate2 certificate, X509Certificate2Collection chain) = load();
        OcspStapledCertificate entry = contexts.GetOrCreateEntry(certificate, chain, servedAtOnce);
        lock (_gate)
        {
            if (_sources.TryGetValue(key, out OcspCertificateFileSource? raced) && !raced.IsDisposed)
            {
                return raced;
            }

            var source = new OcspCertificateFileSource(contexts, options, time, logger, files, load, entry);
            _sources[key] = source;
            return source;
        }
    }

    public void Dispose()
    {
        OcspCertificateFileSource[] sources;
        lock (_gate)
        {
            sources = [.. _sources.Values];
            _sources.Clear();
        }

        foreach (OcspCertificateFileSource source in sources)
        {
            source.Dispose();
        }
    }
}
