using System.Collections.Concurrent;
using System.Net.Security;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Ocsp.Stapling.Internal;

namespace Ocsp.Stapling;

/// <summary>
/// OCSP stapling for any <see cref="SslStream"/> server: one <see cref="SslStreamCertificateContext"/> per server
/// certificate, which carries the provider's current validated staple, is updated live as the provider refreshes it,
/// and carries none once that staple's nextUpdate passes. Serve it as
/// <see cref="SslServerAuthenticationOptions.ServerCertificateContext"/>. Registered by <c>AddOcspStapling()</c>.
/// </summary>
/// <remarks>
/// .NET keeps native TLS state per certificate context, and a context the runtime has handshaken with before it was
/// hooked does not staple (measured on .NET 10), so a context is hooked the moment it is created, before any handshake;
/// serve every handshake of a certificate from the one context this returns for it. Nothing here throws for OCSP reasons:
/// a certificate that cannot be stapled (no issuer, unsupported runtime) is served without a staple and
/// <see cref="OcspStapledCertificate.NotStaplingReason"/> says why. The context cache and its hooking are here; issuer
/// discovery, the certificate-file watch and the start-up gate are their own types.
/// </remarks>
public sealed class OcspStaplingContexts : IStapledContexts, IDisposable
{
    private readonly OcspCertificateRegistry _registry;
    private readonly IOcspResponseProvider _provider;
    private readonly ILogger _logger;
    private readonly OcspTlsOptions _options;
    private readonly object _gate = new();
    private readonly ConditionalWeakTable<X509Certificate2, OcspStapledCertificate> _byInstance = [];
    private readonly ConcurrentDictionary<string, OcspStapledCertificate> _byThumbprint = new(StringComparer.Ordinal);
    private readonly CertificateFileSources _files;
    private readonly StartupGate _startup;
    private readonly TimeProvider _time;
    private NotStapling? _unsupported;
    private int _unsupportedLogged;

    internal OcspStaplingContexts(
        OcspCertificateRegistry registry, IOcspResponseProvider provider, ILogger logger, NotStapling? unsupported, TimeProvider? time = null, OcspTlsOptions? options = null)
    {
        _time = time ?? TimeProvider.System;
        _options = options ?? new OcspTlsOptions();
        _registry = registry;
        _provider = provider;
        _logger = logger;
        _unsupported = unsupported;
        _files = new CertificateFileSources(this, _options, _time, logger);
        _startup = new StartupGate(this, _options, _time, logger);
        _registry.StapleUpdated += OnStapleUpdated;
        _registry.StapleRemoved += OnStapleRemoved;
    }

    /// <summary>Gets a value indicating whether contexts are stapled on this runtime (Linux and FreeBSD, where .NET terminates TLS with OpenSSL).</summary>
    public bool IsSupported => Unsupported is null;

    /// <summary>Gets why stapling is off here (<see cref="OcspNotStaplingReason.UnsupportedPlatform"/>, <see cref="OcspNotStaplingReason.UnsupportedRuntime"/>); <see cref="OcspNotStaplingReason.None"/> when it is on. The log says it in words.</summary>
    public OcspNotStaplingReason NotStaplingReason => Unsupported?.Reason ?? OcspNotStaplingReason.None;

    /// <summary>Gets why stapling is off here, with the words; <see langword="null"/> when it is on.</summary>
    internal NotStapling? Unsupported => Volatile.Read(ref _unsupported);

    /// <summary>Gets every certificate a context was created for.</summary>
    public IReadOnlyCollection<OcspStapledCertificate> Certificates => [.. _byThumbprint.Values];

    /// <summary>The watched certificate files (tests).</summary>
    internal IReadOnlyCollection<OcspCertificateFileSource> Sources => _files.All;

    /// <summary>
    /// Returns the stapling context of <paramref name="certificate"/>: the existing one, or a new one, hooked and
    /// registered with the provider before it is returned. Lock-free for a certificate instance seen before, so it may be
    /// called per handshake (an SNI callback). Give the result a first staple before serving it with
    /// <see cref="PrepareAsync"/>, or use <see cref="CreateContextAsync"/>, which does both.
    /// </summary>
    /// <param name="certificate">The server certificate, with its private key.</param>
    /// <param name="chain">Intermediates to send and to find the issuer in (the certificate store is searched too).</param>
    /// <returns>The certificate's one context and its state.</returns>
    public OcspStapledCertificate GetOrCreate(X509Certificate2 certificate, X509Certificate2Collection? chain = null) =>
        GetOrCreateEntry(certificate, chain, servedAtOnce: true);

    /// <summary>
    /// Returns a hooked context for <paramref name="certificate"/> that carries a staple before its first handshake
    /// whenever one can be had in time: <see cref="GetOrCreate"/>, then <see cref="PrepareAsync"/> (the shared store,
    /// then the first answer of the responder, bounded by <see cref="OcspTlsOptions.StartupFetchTimeout"/>). For
    /// certificates added while the server runs (a new SNI name).
    /// </summary>
    /// <param name="certificate">The server certificate, with its private key.</param>
    /// <param name="chain">Intermediates to send and to find the issuer in.</param>
    /// <param name="cancellationToken">Cancels the wait for the shared store.</param>
    /// <returns>The context to serve the certificate with.</returns>
    public async Task<SslStreamCertificateContext> CreateContextAsync(
        X509Certificate2 certificate, X509Certificate2Collection? chain = null, CancellationToken cancellationToken = default)
    {
        OcspStapledCertificate entry = GetOrCreate(certificate, chain);
        await PrepareAsync(entry, cancellationToken).ConfigureAwait(false);
        return entry.Context;
    }

    /// <summary>
    /// Gives <paramref name="certificate"/>'s context a staple before it is served, when one can be had in time: the
    /// shared store's valid staple (bounded by <see cref="OcspSharedStoreOptions.Timeout"/>), else the responder's first
    /// answer, waited for up to <see cref="OcspTlsOptions.StartupFetchTimeout"/>. A failure or a timeout is logged,
    /// never thrown: the certificate is then served without a staple until one is fetched.
    /// </summary>
    /// <param name="certificate">A certificate from <see cref="GetOrCreate"/>.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The staple the context carries now, if any.</returns>
    public async Task<OcspStaple?> PrepareAsync(OcspStapledCertificate certificate, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        using var deadline = new CancellationTokenSource(_options.StartupFetchTimeout, _time);
        await PrepareUntilAsync(certificate, deadline.Token, cancellationToken).ConfigureAwait(false);
        return certificate.ServedStaple;
    }

    /// <summary>
    /// Watches a PEM certificate (or full chain), its PEM key and an optional chain file, and serves what they hold:
    /// loaded now (errors name the file), then reloaded when they change. A new certificate is registered, given a
    /// staple (<see cref="PrepareAsync"/>) and only then served; the old one is unregistered after. A pair that cannot be
    /// used (unreadable, or a key that does not match the certificate, as when an ACME client has written one file and
    /// not yet the other) keeps the current certificate serving and is logged. The same files give the same source.
    /// </summary>
    /// <param name="certificatePath">The certificate, optionally followed by its chain (fullchain.pem).</param>
    /// <param name="keyPath">The unencrypted PEM private key.</param>
    /// <param name="chainPath">More chain certificates (chain.pem), if not in <paramref name="certificatePath"/>.</param>
    /// <returns>The source; serve <see cref="OcspCertificateFileSource.Current"/> per handshake.</returns>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    /// <exception cref="InvalidOperationException">A file cannot be read as what it should hold; the message names it and says why.</exception>
    public OcspCertificateFileSource WatchPemFiles(string certificatePath, string keyPath, string? chainPath = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(certificatePath);
        ArgumentException.ThrowIfNullOrEmpty(keyPath);
        string[] files = chainPath is null
            ? [Path.GetFullPath(certificatePath), Path.GetFullPath(keyPath)]
            : [Path.GetFullPath(certificatePath), Path.GetFullPath(keyPath), Path.GetFullPath(chainPath)];
        return _files.Watch(
            "pem\0" + string.Join('\0', files), files, () => OcspServerCertificateFiles.LoadPem(files[0], files[1], chainPath is null ? null : files[2]), !_startup.HasStarted);
    }

    /// <summary>Watches a PFX (PKCS#12) file as <see cref="WatchPemFiles"/> watches PEM files.</summary>
    /// <param name="path">The PFX file.</param>
    /// <param name="password">Its password, if any.</param>
    /// <returns>The source; serve <see cref="OcspCertificateFileSource.Current"/> per handshake.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidOperationException">The file cannot be read as a PFX with that password, or holds no private key.</exception>
    public OcspCertificateFileSource WatchPfxFile(string path, string? password)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string file = Path.GetFullPath(path);
        string key = "pfx\0" + file + "\0" + Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(password ?? "\0none")));
        return _files.Watch(key, [file], () => OcspServerCertificateFiles.LoadPfx(file, password), !_startup.HasStarted);
    }

    /// <summary>
    /// Stops stapling <paramref name="certificate"/> (rotation: after the new certificate is served): unregisters it from
    /// the provider and forgets its context. Its context carries no staple afterwards.
    /// </summary>
    /// <param name="certificate">The old certificate.</param>
    /// <returns><see langword="true"/> when a context existed for it.</returns>
    public bool Remove(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        OcspStapledCertificate? entry;
        lock (_gate)
        {
            if (!_byThumbprint.TryRemove(certificate.GetCertHashString(HashAlgorithmName.SHA256), out entry))
            {
                return false;
            }

            entry.MarkRemoved();
            _byInstance.Remove(certificate);
        }

        if (entry.Issuer is not null)
        {
            _registry.Unregister(entry.Certificate);
        }

        if (entry.ServedStaple is { } staple)
        {
            entry.Remove(staple);
        }

        return true;
    }

    /// <summary>Stops following the provider's notifications and watching certificate files.</summary>
    public void Dispose()
    {
        _registry.StapleUpdated -= OnStapleUpdated;
        _registry.StapleRemoved -= OnStapleRemoved;
        _files.Dispose();
    }

    /// <summary>
    /// Runs <paramref name="action"/> at start-up, before the certificates are prepared (and so before the server
    /// listens): for servers that create their certificates' contexts late, as Kestrel does for endpoints from
    /// configuration. After start-up, runs it at once. Kestrel plumbing, not public.
    /// </summary>
    internal void RunBeforeStart(Action action) => _startup.RunBeforeStart(action);

    /// <summary>
    /// Makes start-up refuse to complete until <paramref name="certificate"/> has a valid staple (a must-staple
    /// certificate of a server that must not run unstapled), waited for up to <paramref name="timeout"/>.
    /// </summary>
    internal void RequireStapleAtStartup(OcspStapledCertificate certificate, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        _startup.RequireStaple(certificate, timeout);
    }

    /// <summary>Start-up (the hosted service): see <see cref="StartupGate"/>.</summary>
    internal Task StartAsync(CancellationToken cancellationToken) => _startup.StartAsync(cancellationToken);

    /// <summary>GetOrCreate; <paramref name="servedAtOnce"/> is false when the caller prepares the context before serving it (a rotation), so a missing staple is not yet worth an error.</summary>
    internal OcspStapledCertificate GetOrCreateEntry(X509Certificate2 certificate, X509Certificate2Collection? chain, bool servedAtOnce)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        if (_byInstance.TryGetValue(certificate, out OcspStapledCertificate? known) && !known.Removed)
        {
            return known;
        }

        string thumbprint = certificate.GetCertHashString(HashAlgorithmName.SHA256);
        lock (_gate)
        {
            if (!_byThumbprint.TryGetValue(thumbprint, out OcspStapledCertificate? entry))
            {
                entry = Create(certificate, chain);
                _byThumbprint[thumbprint] = entry;

                // Registered once findable: a staple the provider announces from now on reaches the context.
                if (entry.IsStapling)
                {
                    _registry.Register(certificate, entry.Issuer!);
                    Sync(entry);
                    Log.CertificateHooked(_logger, entry.DisplayName, entry.DescribeStaple());
                    if (entry.ServedStaple is null && entry.IsMustStaple && _startup.HasStarted && servedAtOnce)
                    {
                        // Created after start-up (an SNI certificate on its first handshake): start-up did not see it, so say it here.
                        Log.MustStapleWithoutStaple(_logger, entry.DisplayName);
                    }
                }
            }

            _byInstance.AddOrUpdate(certificate, entry);
            return entry;
        }
    }

    /// <inheritdoc />
    OcspStapledCertificate IStapledContexts.GetOrCreateEntry(X509Certificate2 certificate, X509Certificate2Collection? chain, bool servedAtOnce) =>
        GetOrCreateEntry(certificate, chain, servedAtOnce);

    /// <inheritdoc />
    OcspCertificateState? IStapledContexts.GetState(OcspStapledCertificate certificate) => _registry.GetState(certificate.Certificate);

    /// <inheritdoc />
    async Task<bool> IStapledContexts.PrepareUntilAsync(OcspStapledCertificate certificate, CancellationToken deadline, CancellationToken cancellationToken) =>
        await PrepareUntilAsync(certificate, deadline, cancellationToken).ConfigureAwait(false);

    private async Task<bool> PrepareUntilAsync(OcspStapledCertificate certificate, CancellationToken deadline, CancellationToken cancellationToken)
    {
        if (!certificate.IsStapling || certificate.Removed)
        {
            return false;
        }

        if (certificate.ServedStaple is null)
        {
            await _registry.WarmUpAsync(certificate.Certificate, cancellationToken).ConfigureAwait(false);
            Sync(certificate);
        }

        if (certificate.ServedStaple is not null || _registry.GetState(certificate.Certificate) is not { HasResponder: true })
        {
            return false;
        }

        // Joins the fetch the registration started (single flight), or starts it; inside a failure back-off it answers
        // at once with the failure. Cancelling ends only this wait, never the fetch.
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline);
        try
        {
            await _registry.RefreshAsync(certificate.Certificate, bound.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Log.FirstAnswerTimedOut(_logger, certificate.DisplayName, _options.StartupFetchTimeout);
        }
        catch (InvalidOperationException)
        {
            // Unregistered meanwhile (removed by a rotation): nothing to wait for.
        }

        Sync(certificate);
        return true;
    }

    private OcspStapledCertificate Create(X509Certificate2 certificate, X509Certificate2Collection? chain)
    {
        // offline: true builds the chain from what was given and the store, and leaves stapling forbidden: the runtime
        // neither downloads intermediates nor fetches OCSP itself. The hook below turns stapling on with our bytes.
        SslStreamCertificateContext context = SslStreamCertificateContext.Create(certificate, chain, offline: true);
        X509Certificate2? issuer = IssuerDiscovery.Find(certificate, chain, out string? problem);
        if (issuer is null)
        {
            var orphan = new OcspStapledCertificate(certificate, null, context, new NotStapling(OcspNotStaplingReason.IssuerNotFound, problem!));
            Log.IssuerNotFound(_logger, orphan.DisplayName, problem!);
            return orphan;
        }

        if (Unsupported is { } unsupported)
        {
            ReportUnsupported(unsupported.Detail);
            return new OcspStapledCertificate(certificate, issuer, context, unsupported with { Detail = "OCSP stapling is not supported here: " + unsupported.Detail });
        }

        var entry = new OcspStapledCertificate(certificate, issuer, context, notStapling: null);
        _provider.TryGetCachedStaple(certificate, out OcspStaple? staple);
        try
        {
            entry.Hook(staple);
        }
        catch (MissingFieldException ex)
        {
            // The probe passed but the runtime disagrees: never let that fail TLS; serve without stapling.
            var rejected = new NotStapling(OcspNotStaplingReason.UnsupportedRuntime, $"the runtime rejected the hook ({ex.Message})");
            Volatile.Write(ref _unsupported, rejected);
            ReportUnsupported(rejected.Detail);
            entry.TurnOff(rejected with { Detail = "OCSP stapling is not supported here: " + rejected.Detail });
        }

        return entry;
    }

    /// <summary>Writes what the provider serves now: covers an announcement that raced the entry's creation (updates are ordered, so a late one changes nothing).</summary>
    private void Sync(OcspStapledCertificate entry)
    {
        if (_provider.TryGetCachedStaple(entry.Certificate, out OcspStaple? staple))
        {
            entry.Update(staple, served: true);
        }
    }

    private void ReportUnsupported(string reason)
    {
        if (Interlocked.Exchange(ref _unsupportedLogged, 1) == 0)
        {
            Log.StaplingUnsupported(_logger, reason);
        }
    }

    private OcspStapledCertificate? Find(X509Certificate2 certificate) =>
        _byInstance.TryGetValue(certificate, out OcspStapledCertificate? entry)
        || _byThumbprint.TryGetValue(certificate.GetCertHashString(HashAlgorithmName.SHA256), out entry)
            ? entry
            : null;

    private void OnStapleUpdated(object? sender, OcspStapleUpdatedEventArgs e)
    {
        if (Find(e.Certificate) is not { } entry || !entry.Update(e.Staple, e.IsServed))
        {
            return;
        }

        if (entry.ServedStaple is { } staple)
        {
            Log.StapleApplied(_logger, entry.DisplayName, staple.Status, staple.ThisUpdate, staple.NextUpdate);
        }
        else
        {
            StapleGone(entry);
        }
    }

    private void OnStapleRemoved(object? sender, OcspStapleRemovedEventArgs e)
    {
        if (Find(e.Certificate) is { } entry && entry.Remove(e.Staple))
        {
            StapleGone(entry);
        }
    }

    private void StapleGone(OcspStapledCertificate entry)
    {
        Log.StapleRemoved(_logger, entry.DisplayName);
        if (entry.IsMustStaple && !entry.Removed)
        {
            Log.MustStapleWithoutStaple(_logger, entry.DisplayName);
        }
    }
}
