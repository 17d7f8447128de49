using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Ocsp.Stapling.Internal;

namespace Ocsp.Stapling;

/// <summary>
/// A server certificate served from files that are replaced while the server runs (ACME renewals): the certificate
/// now served, with its stapling context, and the next one once its files change and it has been prepared. Created by
/// <see cref="OcspStaplingContexts.WatchPemFiles"/> or <see cref="OcspStaplingContexts.WatchPfxFile"/>; serve
/// <see cref="Current"/> (or <see cref="Context"/>) per handshake.
/// </summary>
/// <remarks>
/// A change (a file system notification, or the poll of <see cref="OcspTlsOptions.CertificatePollInterval"/>) is
/// acted on once the files have been quiet for <see cref="OcspTlsOptions.CertificateReloadDelay"/>. The new
/// certificate is registered, given a staple within <see cref="OcspTlsOptions.StartupFetchTimeout"/>, served, and
/// only then is the old one unregistered. Files that cannot be used keep the current certificate serving; the reason is
/// logged once per distinct reason, and the next change tries again.
/// </remarks>
public sealed class OcspCertificateFileSource : IDisposable
{
    private readonly IStapledContexts _contexts;
    private readonly OcspTlsOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Func<(X509Certificate2 Certificate, X509Certificate2Collection Chain)> _load;
    private readonly SemaphoreSlim _reloading = new(1, 1);
    private readonly FileSystemWatcher[] _watchers;
    private readonly ITimer _quiet;
    private readonly ITimer? _poll;
    private readonly string _description;
    private OcspStapledCertificate _current;
    private string? _lastError;
    private int _disposed;

    internal OcspCertificateFileSource(
        IStapledContexts contexts,
        OcspTlsOptions options,
        TimeProvider time,
        ILogger logger,
        string[] files,
        Func<(X509Certificate2 Certificate, X509Certificate2Collection Chain)> load,
        OcspStapledCertificate initial)
    {
        _contexts = contexts;
        _options = options;
        _time = time;
        _logger = logger;
        _load = load;
        _current = initial;
        Files = files;
        _description = string.Join(", ", files);
        _quiet = time.CreateTimer(static state => ((OcspCertificateFileSource)state!).ReloadInBackground(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        if (options.CertificatePollInterval > TimeSpan.Zero)
        {
            _poll = time.CreateTimer(static state => ((OcspCertificateFileSource)state!).ReloadInBackground(), this, options.CertificatePollInterval, options.CertificatePollInterval);
        }

        // The directories, not the files: ACME clients and Kubernetes replace files by renaming or by swapping symbolic
        // links, which a watch on the file itself would not see. Any change in them triggers a (cheap, idempotent) reload.
        _watchers = [.. files.Select(Path.GetDirectoryName).Distinct(StringComparer.Ordinal).Select(directory => Watch(directory!))];
        Log.CertificateFilesWatched(logger, _description, initial.DisplayName, options.CertificateReloadDelay, options.CertificatePollInterval);
    }

    /// <summary>Raised after a new certificate from the files is served (and the old one unregistered).</summary>
    public event EventHandler<OcspCertificateRotatedEventArgs>? Rotated;

    /// <summary>Gets the watched files, as full paths.</summary>
    public IReadOnlyList<string> Files { get; }

    /// <summary>Gets the certificate served now, with its stapling context. Lock-free: read it per handshake.</summary>
    public OcspStapledCertificate Current => Volatile.Read(ref _current);

    /// <summary>Gets the context to serve now, as <see cref="SslServerAuthenticationOptions.ServerCertificateContext"/>.</summary>
    public SslStreamCertificateContext Context => Current.Context;

    /// <summary>Gets why the files' latest content was not used, or <see langword="null"/> when it was (or is the current certificate).</summary>
    public string? LastError => Volatile.Read(ref _lastError);

    internal bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>
    /// Reads the files now and, when they hold another certificate that can be used, prepares and serves it. What the
    /// watcher and the poll do; call it after replacing the files to act at once. Never throws for file problems.
    /// </summary>
    /// <param name="cancellationToken">Cancels the wait (for the lock, or the new certificate's first staple).</param>
    /// <returns><see langword="true"/> when another certificate is served now.</returns>
    public async Task<bool> ReloadAsync(CancellationToken cancellationToken = default)
    {
        await _reloading.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (IsDisposed)
            {
                return false;
            }

            OcspStapledCertificate previous = Current;
            X509Certificate2 certificate;
            X509Certificate2Collection chain;
            try
            {
                (certificate, chain) = _load();
            }
            catch (Exception ex) when (ex is InvalidOperationException or IOException or UnauthorizedAccessException or CryptographicException)
            {
                Refuse(previous, ex.Message);
                return false;
            }

            if (certificate.RawDataMemory.Span.SequenceEqual(previous.Certificate.RawDataMemory.Span))
            {
                certificate.Dispose();
                Volatile.Write(ref _lastError, null);
                return false;
            }

            OcspStapledCertificate next = _contexts.GetOrCreateEntry(certificate, chain, servedAtOnce: false);
            using (var deadline = new CancellationTokenSource(_options.StartupFetchTimeout, _time))
            {
                await _contexts.PrepareUntilAsync(next, deadline.Token, cancellationToken).ConfigureAwait(false);
            }

            Volatile.Write(ref _current, next);
            Volatile.Write(ref _lastError, null);
            Log.CertificateRotated(_logger, _description, next.DisplayName, next.DescribeStaple(), previous.DisplayName);

            // Only now: connections that already chose the old context finish with it, new ones get the new one.
            _contexts.Remove(previous.Certificate);
            try
            {
                Rotated?.Invoke(this, new OcspCertificateRotatedEventArgs(previous, next));
            }
#pragma warning disable CA1031 // A subscriber's bug must not stop the watcher.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.SubscriberError(_logger, nameof(OcspCertificateRotatedEventArgs), ex);
            }

            return true;
        }
        finally
        {
            _reloading.Release();
        }
    }

    /// <summary>Stops watching the files. The current certificate stays registered and served by whoever holds it.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        foreach (FileSystemWatcher watcher in _watchers)
        {
            watcher.Dispose();
        }

        _quiet.Dispose();
        _poll?.Dispose();
    }

    private FileSystemWatcher Watch(string directory)
    {
        var watcher = new FileSystemWatcher(directory)
        {
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime,
            IncludeSubdirectories = false,
        };
        watcher.Changed += OnChanged;
        watcher.Created += OnChanged;
        watcher.Deleted += OnChanged;
        watcher.Renamed += OnChanged;
        watcher.EnableRaisingEvents = true;
        return watcher;
    }

    private void OnChanged(object sender, FileSystemEventArgs e)
    {
        if (IsDisposed)
        {
            return;
        }

        TimeSpan delay = _options.CertificateReloadDelay;
        if (delay <= TimeSpan.Zero)
        {
            ReloadInBackground();
        }
        else
        {
            // Every change restarts the quiet period: the reload comes once the writer is done.
            _quiet.Change(delay, Timeout.InfiniteTimeSpan);
        }
    }

    private void ReloadInBackground()
    {
        if (!IsDisposed)
        {
            _ = Task.Run(() => ReloadAsync());
        }
    }

    private void Refuse(OcspStapledCertificate current, string message)
    {
        // Once per distinct reason: a pair half-written stays wrong until the next change, and the poll must not repeat it.
        if (Interlocked.Exchange(ref _lastError, message) != message)
        {
            Log.CertificateReloadFailed(_logger, _description, current.DisplayName, message);
        }
    }
}
