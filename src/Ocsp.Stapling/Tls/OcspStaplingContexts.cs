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
/// <see cref="OcspStapledCertificate.NotStaplingReason"/> says why.
/// </remarks>
public sealed class OcspStaplingContexts : IDisposable
{
    private readonly IOcspCertificateRegistry _registry;
    private readonly IOcspResponseProvider _provider;
    private readonly ILogger _logger;
    private readonly object _gate = new();
    private readonly ConditionalWeakTable<X509Certificate2, OcspStapledCertificate> _byInstance = [];
    private readonly ConcurrentDictionary<string, OcspStapledCertificate> _byThumbprint = new(StringComparer.Ordinal);
    private readonly List<(OcspStapledCertificate Certificate, TimeSpan Timeout)> _requiredAtStart = [];
    private string? _unsupportedReason;
    private int _unsupportedLogged;
    private readonly TimeProvider _time;
    private readonly OcspStaplingOptions _options;
    private readonly Dictionary<string, OcspCertificateFileSource> _sources = new(StringComparer.Ordinal);
    private readonly List<Action> _beforeStart = [];
    private volatile bool _started;

    internal OcspStaplingContexts(
        IOcspCertificateRegistry registry, IOcspResponseProvider provider, ILogger logger, string? unsupportedReason, TimeProvider? time = null, OcspStaplingOptions? options = null)
    {
        _time = time ?? TimeProvider.System;
        _options = options ?? new OcspStaplingOptions();
        _registry = registry;
        _provider = provider;
        _logger = logger;
        _unsupportedReason = unsupportedReason;
        _registry.StapleUpdated += OnStapleUpdated;
        _registry.StapleRemoved += OnStapleRemoved;
    }

    /// <summary>Gets a value indicating whether contexts are stapled on this runtime (see <see cref="OcspStaplingSupport"/>).</summary>
    public bool IsSupported => UnsupportedReason is null;

    /// <summary>Gets why stapling is off on this runtime, or <see langword="null"/> when it is on.</summary>
    public string? UnsupportedReason => Volatile.Read(ref _unsupportedReason);

    /// <summary>Gets every certificate a context was created for.</summary>
    public IReadOnlyCollection<OcspStapledCertificate> Certificates => [.. _byThumbprint.Values];

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
                    Log.CertificateHooked(_logger, entry.DisplayName, Describe(entry));
                    if (entry.CurrentStaple is null && entry.IsMustStaple && _started && servedAtOnce)
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

    /// <summary>
    /// Returns a hooked context for <paramref name="certificate"/> that carries a staple before its first handshake
    /// whenever one can be had in time: <see cref="GetOrCreate"/>, then <see cref="PrepareAsync"/> (the shared cache,
    /// then the first answer of the responder, bounded by <see cref="OcspStaplingOptions.StartupFetchTimeout"/>). For
    /// certificates added while the server runs (a new SNI name).
    /// </summary>
    /// <param name="certificate">The server certificate, with its private key.</param>
    /// <param name="chain">Intermediates to send and to find the issuer in.</param>
    /// <param name="cancellationToken">Cancels the wait for the shared cache.</param>
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
    /// shared cache's valid staple (bounded by <see cref="OcspStaplingOptions.DistributedCacheTimeout"/>), else the
    /// responder's first answer, waited for up to <see cref="OcspStaplingOptions.StartupFetchTimeout"/>. A failure or a
    /// timeout is logged, never thrown: the certificate is then served without a staple until one is fetched.
    /// </summary>
    /// <param name="certificate">A certificate from <see cref="GetOrCreate"/>.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The staple the context carries now, if any.</returns>
    public async Task<OcspStaple?> PrepareAsync(OcspStapledCertificate certificate, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        using var deadline = new CancellationTokenSource(_options.StartupFetchTimeout, _time);
        await PrepareUntilAsync(certificate, deadline.Token, cancellationToken).ConfigureAwait(false);
        return certificate.CurrentStaple;
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
        return Watch("pem\0" + string.Join('\0', files), files, () => OcspServerCertificateFiles.LoadPem(files[0], files[1], chainPath is null ? null : files[2]));
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
        return Watch(key, [file], () => OcspServerCertificateFiles.LoadPfx(file, password));
    }

    /// <summary>
    /// Runs <paramref name="action"/> at start-up, before the certificates are prepared (and so before the server
    /// listens): for servers that create their certificates' contexts late, as Kestrel does for endpoints from
    /// configuration. After start-up, runs it at once.
    /// </summary>
    /// <param name="action">Creates contexts (<see cref="GetOrCreate"/>, <see cref="WatchPemFiles"/>, …).</param>
    public void RunBeforeStart(Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        lock (_gate)
        {
            if (!_started)
            {
                _beforeStart.Add(action);
                return;
            }
        }

        action();
    }

    /// <summary>
    /// Makes start-up refuse to complete until <paramref name="certificate"/> has a valid staple: the OCSP hosted service,
    /// which starts before the server accepts connections, reads the shared cache, then asks the responder for up to
    /// <paramref name="timeout"/>, and fails start-up without one. For must-staple certificates of servers that must not
    /// run unstapled. After start-up it has no effect (a warning says so).
    /// </summary>
    /// <param name="certificate">A certificate from <see cref="GetOrCreate"/>.</param>
    /// <param name="timeout">How long start-up waits for the staple.</param>
    public void RequireStapleAtStartup(OcspStapledCertificate certificate, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        lock (_gate)
        {
            if (!_started)
            {
                _requiredAtStart.Add((certificate, timeout));
                return;
            }
        }

        Log.StapleRequiredAfterStart(_logger, certificate.DisplayName);
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

            entry.Removed = true;
            _byInstance.Remove(certificate);
        }

        if (entry.Issuer is not null)
        {
            _registry.Unregister(entry.Certificate);
        }

        if (entry.CurrentStaple is { } staple)
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

    /// <summary>The watched certificate files (tests).</summary>
    internal IReadOnlyCollection<OcspCertificateFileSource> Sources
    {
        get
        {
            lock (_gate)
            {
                return [.. _sources.Values];
            }
        }
    }

    internal TimeProvider Time => _time;

    internal OcspStaplingOptions Options => _options;

    internal ILogger Logger => _logger;

    /// <summary>
    /// The shared cache, then the responder's first answer, until <paramref name="deadline"/>: what start-up and a
    /// rotation wait for. Logs a timeout; never throws but for <paramref name="cancellationToken"/>.
    /// </summary>
    /// <returns><see langword="true"/> when it waited for the responder.</returns>
    private async Task<bool> PrepareUntilAsync(OcspStapledCertificate certificate, CancellationToken deadline, CancellationToken cancellationToken)
    {
        if (!certificate.IsStapling || certificate.Removed)
        {
            return false;
        }

        if (certificate.CurrentStaple is null)
        {
            await _registry.WarmUpAsync(certificate.Certificate, cancellationToken).ConfigureAwait(false);
            Sync(certificate);
        }

        if (certificate.CurrentStaple is not null || _registry.GetState(certificate.Certificate) is not { HasResponder: true })
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

    private OcspCertificateFileSource Watch(string key, string[] files, Func<(X509Certificate2 Certificate, X509Certificate2Collection Chain)> load)
    {
        lock (_gate)
        {
            if (_sources.TryGetValue(key, out OcspCertificateFileSource? known) && !known.IsDisposed)
            {
                return known;
            }
        }

        (X509Certificate2 certificate, X509Certificate2Collection chain) = load();
        OcspStapledCertificate entry = GetOrCreateEntry(certificate, chain, servedAtOnce: !_started);
        lock (_gate)
        {
            if (_sources.TryGetValue(key, out OcspCertificateFileSource? raced) && !raced.IsDisposed)
            {
                return raced;
            }

            var source = new OcspCertificateFileSource(this, files, load, entry);
            _sources[key] = source;
            return source;
        }
    }

    /// <summary>The staple state of <paramref name="entry"/>, as the logs say it.</summary>
    internal static string Describe(OcspStapledCertificate entry) =>
        entry.CurrentStaple is not { } staple
            ? entry.IsMustStaple ? "no staple yet (MUST-STAPLE certificate)" : entry.IsStapling ? "no staple yet; the first one is being fetched" : "not stapled: " + entry.NotStaplingReason
            : $"{staple.Status}, nextUpdate {staple.NextUpdate:u}";

    /// <summary>
    /// Start-up, once the provider has loaded the shared cache and before the server accepts connections: logs every
    /// must-staple certificate still without a staple, and waits for those required by <see cref="RequireStapleAtStartup"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">A required certificate has no staple within its timeout.</exception>
    internal async Task StartAsync(CancellationToken cancellationToken)
    {
        Action[] beforeStart;
        lock (_gate)
        {
            beforeStart = [.. _beforeStart];
            _beforeStart.Clear();
        }

        // Contexts created by these (Kestrel's configuration endpoints) are prepared with the others below.
        foreach (Action action in beforeStart)
        {
            action();
        }

        (OcspStapledCertificate Certificate, TimeSpan Timeout)[] required;
        lock (_gate)
        {
            _started = true;
            required = [.. _requiredAtStart];
            _requiredAtStart.Clear();
        }

        // Cold start: every certificate gets the shared cache's staple, else the responder's first answer, all at once
        // and under one deadline, so that the server starts listening with its certificates stapled, or after the bound.
        OcspStapledCertificate[] entries = [.. Certificates.Where(e => e.IsStapling)];
        int waited = 0;
        using (var deadline = new CancellationTokenSource(_options.StartupFetchTimeout, _time))
        {
            await Parallel.ForEachAsync(
                entries,
                new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = cancellationToken },
                async (entry, token) =>
                {
                    if (await PrepareUntilAsync(entry, deadline.Token, token).ConfigureAwait(false))
                    {
                        Interlocked.Increment(ref waited);
                    }
                }).ConfigureAwait(false);
        }

        if (entries.Length > 0)
        {
            Log.StartupPrepared(_logger, entries.Count(e => e.CurrentStaple is not null), entries.Length, waited, _options.StartupFetchTimeout);
        }

        foreach (OcspStapledCertificate entry in entries)
        {
            if (entry.IsMustStaple && entry.CurrentStaple is null && !required.Any(r => ReferenceEquals(r.Certificate, entry)))
            {
                Log.MustStapleWithoutStaple(_logger, entry.DisplayName);
            }
        }

        foreach ((OcspStapledCertificate entry, TimeSpan timeout) in required)
        {
            if (entry.CurrentStaple is null && entry.IsStapling)
            {
                using var limit = new CancellationTokenSource(timeout, _time);
                using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, limit.Token);
                try
                {
                    await _provider.GetStapleAsync(entry.Certificate, entry.Issuer!, bound.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    // Timed out: the check below says so.
                }

                Sync(entry);
            }

            if (entry.CurrentStaple is null)
            {
                throw new InvalidOperationException(
                    $"Must-staple certificate {entry.DisplayName} has no valid OCSP staple after {timeout} and a staple is required at start-up: " +
                    $"refusing to start. {entry.NotStaplingReason ?? "See the OCSP log entries for the cause."}");
            }
        }
    }

    private OcspStapledCertificate Create(X509Certificate2 certificate, X509Certificate2Collection? chain)
    {
        // offline: true builds the chain from what was given and the store, and leaves stapling forbidden: the runtime
        // neither downloads intermediates nor fetches OCSP itself. The hook below turns stapling on with our bytes.
        SslStreamCertificateContext context = SslStreamCertificateContext.Create(certificate, chain, offline: true);
        X509Certificate2? issuer = FindIssuer(certificate, chain, out string? problem);
        if (issuer is null)
        {
            var orphan = new OcspStapledCertificate(certificate, null, context, problem);
            Log.IssuerNotFound(_logger, orphan.DisplayName, problem!);
            return orphan;
        }

        if (UnsupportedReason is { } reason)
        {
            ReportUnsupported(reason);
            return new OcspStapledCertificate(certificate, issuer, context, "OCSP stapling is not supported here: " + reason);
        }

        var entry = new OcspStapledCertificate(certificate, issuer, context, notStaplingReason: null);
        _provider.TryGetCachedStaple(certificate, out OcspStaple? staple);
        try
        {
            entry.Hook(staple);
        }
        catch (MissingFieldException ex)
        {
            // The probe passed but the runtime disagrees: never let that fail TLS; serve without stapling.
            Volatile.Write(ref _unsupportedReason, $"the runtime rejected the hook ({ex.Message})");
            ReportUnsupported(UnsupportedReason!);
            entry.TurnOff("OCSP stapling is not supported here: " + UnsupportedReason);
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

    /// <summary>The issuer from the chain given or the store; null with the reason when there is none.</summary>
    private static X509Certificate2? FindIssuer(X509Certificate2 certificate, X509Certificate2Collection? chain, out string? problem)
    {
        using var builder = new X509Chain();
        builder.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        builder.ChainPolicy.VerificationFlags = X509VerificationFlags.AllFlags;
        builder.ChainPolicy.DisableCertificateDownloads = true;
        if (chain is not null)
        {
            builder.ChainPolicy.ExtraStore.AddRange(chain);
        }

        builder.Build(certificate);
        X509Certificate2? issuer = null;
        for (int i = 0; i < builder.ChainElements.Count; i++)
        {
            X509Certificate2 element = builder.ChainElements[i].Certificate;
            if (i == 1 && CertificateNames.IsIssuedBy(certificate, element))
            {
                issuer = element;
            }
            else
            {
                element.Dispose();
            }
        }

        problem = issuer is not null
            ? null
            : certificate.SubjectName.RawData.AsSpan().SequenceEqual(certificate.IssuerName.RawData)
                ? "it is self-signed, so there is no issuer to ask about it"
                : $"its issuer '{certificate.Issuer}' is neither in the chain given nor in the certificate store; pass the issuing CA certificate with the chain (PEM chain file, PFX, or collection)";
        return issuer;
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

        if (entry.CurrentStaple is { } staple)
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
