using System.Collections.Concurrent;
using System.Net.Security;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ocsp.Stapling.AspNetCore.Internal;

/// <summary>
/// The Kestrel side of stapling for one application: one hooked context per certificate (shared by every endpoint
/// serving it), registered with the provider, updated when the provider reports a new staple or an expiry.
/// </summary>
/// <remarks>
/// .NET keeps native TLS state per certificate context, and a context the runtime has handshaken with before it was
/// hooked does not staple (measured on .NET 10), so a context is hooked the moment it is created, before any handshake.
/// </remarks>
internal sealed class KestrelStaplingHook
{
    private static readonly ConditionalWeakTable<IOcspCertificateRegistry, KestrelStaplingHook> Hooks = [];

    private readonly IOcspCertificateRegistry _registry;
    private readonly IOcspResponseProvider _provider;
    private readonly ILogger _logger;
    private readonly object _gate = new();
    private readonly ConditionalWeakTable<X509Certificate2, StapledCertificate> _byInstance = [];
    private readonly ConcurrentDictionary<string, StapledCertificate> _byThumbprint = new(StringComparer.Ordinal);
    private string? _unsupportedReason;
    private int _unsupportedLogged;

    internal KestrelStaplingHook(IOcspCertificateRegistry registry, IOcspResponseProvider provider, ILogger logger, string? unsupportedReason)
    {
        _registry = registry;
        _provider = provider;
        _logger = logger;
        _unsupportedReason = unsupportedReason;
        _registry.StapleUpdated += OnStapleUpdated;
    }

    /// <summary>Gets why stapling is off, or <see langword="null"/> when it is on.</summary>
    public string? UnsupportedReason => Volatile.Read(ref _unsupportedReason);

    /// <summary>Gets every certificate served so far.</summary>
    public IReadOnlyCollection<StapledCertificate> Certificates => [.. _byThumbprint.Values];

    /// <summary>The hook of the application whose services these are (one per provider); created on first use.</summary>
    /// <exception cref="InvalidOperationException">The application did not call <c>AddOcspStapling()</c>.</exception>
    public static KestrelStaplingHook For(IServiceProvider services)
    {
        IOcspCertificateRegistry registry = services.GetService<IOcspCertificateRegistry>()
            ?? throw new InvalidOperationException("OCSP stapling in Kestrel needs the provider: call services.AddOcspStapling() when configuring services.");
        return Hooks.GetValue(registry, r =>
        {
            ILogger logger = services.GetService<ILoggerFactory>()?.CreateLogger("Ocsp.Stapling.AspNetCore.Kestrel") ?? NullLogger.Instance;
            return new KestrelStaplingHook(r, services.GetRequiredService<IOcspResponseProvider>(), logger, OcspStaplingSupport.UnsupportedReason);
        });
    }

    /// <summary>The hook of the application, if Kestrel stapling was set up in it.</summary>
    public static KestrelStaplingHook? Find(IServiceProvider services) =>
        services.GetService<IOcspCertificateRegistry>() is { } registry && Hooks.TryGetValue(registry, out KestrelStaplingHook? hook) ? hook : null;

    /// <summary>
    /// The stapling context for <paramref name="certificate"/>: the existing one, or a new one hooked before it is
    /// returned. Lock-free for a certificate instance seen before (the per-handshake path of an SNI selector).
    /// </summary>
    /// <param name="certificate">The server certificate, with its private key.</param>
    /// <param name="chain">Intermediates to send and to find the issuer in.</param>
    /// <param name="atStartup">Start-up: throw when the issuer cannot be found. Otherwise (first handshake of an SNI certificate) log and serve without a staple.</param>
    public StapledCertificate GetOrCreate(X509Certificate2 certificate, X509Certificate2Collection? chain, bool atStartup)
    {
        if (_byInstance.TryGetValue(certificate, out StapledCertificate? known))
        {
            return known;
        }

        string thumbprint = certificate.GetCertHashString(HashAlgorithmName.SHA256);
        lock (_gate)
        {
            if (!_byThumbprint.TryGetValue(thumbprint, out StapledCertificate? entry))
            {
                entry = Create(certificate, chain, atStartup);
                _byThumbprint[thumbprint] = entry;
            }

            _byInstance.AddOrUpdate(certificate, entry);
            return entry;
        }
    }

    /// <summary>
    /// Start-up: loads the shared cache's staples for <paramref name="entries"/> so that the first handshake is stapled,
    /// and for must-staple certificates either logs an Error or (when required) fetches, failing start-up without one.
    /// </summary>
    public async Task PrepareAsync(IEnumerable<StapledCertificate> entries, OcspStaplingHttpsOptions options, CancellationToken cancellationToken)
    {
        foreach (StapledCertificate entry in entries.Where(e => e.IsHooked))
        {
            OcspStaple? staple = await _registry.WarmUpAsync(entry.Certificate, cancellationToken).ConfigureAwait(false);
            if (staple is null && entry.IsMustStaple && !options.RequireStapleForMustStaple)
            {
                Log.MustStapleWithoutStaple(_logger, entry.DisplayName);
            }
            else if (staple is null && entry.IsMustStaple)
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(options.StartupStapleTimeout);
                try
                {
                    staple = await _provider.GetStapleAsync(entry.Certificate, entry.Issuer!, timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    staple = null;
                }

                if (staple is null)
                {
                    throw new InvalidOperationException(
                        $"Must-staple certificate {entry.DisplayName} has no valid OCSP staple after {options.StartupStapleTimeout} " +
                        $"and {nameof(OcspStaplingHttpsOptions.RequireStapleForMustStaple)} is set: refusing to start. See the OCSP log entries for the cause.");
                }
            }

            Refresh(entry);
        }
    }

    private StapledCertificate Create(X509Certificate2 certificate, X509Certificate2Collection? chain, bool atStartup)
    {
        // offline: true builds the chain from what was given and the store, and leaves stapling forbidden: the runtime
        // neither downloads intermediates nor fetches OCSP itself. The hook below turns stapling on with our bytes.
        SslStreamCertificateContext context = SslStreamCertificateContext.Create(certificate, chain, offline: true);
        X509Certificate2? issuer = FindIssuer(certificate, chain, out string? problem);
        var entry = new StapledCertificate(certificate, issuer, context);
        if (issuer is null)
        {
            if (atStartup)
            {
                throw new InvalidOperationException($"Cannot staple OCSP for {entry.DisplayName}: {problem}.");
            }

            Log.IssuerNotFound(_logger, entry.DisplayName, problem!);
            return entry;
        }

        if (UnsupportedReason is { } reason)
        {
            ReportUnsupported(reason);
            return entry;
        }

        _registry.Register(certificate, issuer);
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
            return entry;
        }

        Log.CertificateHooked(_logger, entry.DisplayName, Describe(staple, entry));
        if (staple is null && entry.IsMustStaple && !atStartup)
        {
            // Hooked on its first handshake (SNI): start-up did not see it, so say it here.
            Log.MustStapleWithoutStaple(_logger, entry.DisplayName);
        }

        return entry;
    }

    private static string Describe(OcspStaple? staple, StapledCertificate entry) =>
        staple is null
            ? entry.IsMustStaple ? "no staple yet (MUST-STAPLE certificate)" : "no staple yet; the first one is being fetched"
            : $"{staple.Status}, nextUpdate {staple.NextUpdate:u}";

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
            if (i == 1 && element.SubjectName.RawData.AsSpan().SequenceEqual(certificate.IssuerName.RawData))
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

    private void OnStapleUpdated(object? sender, OcspStapleUpdatedEventArgs e)
    {
        if (_byInstance.TryGetValue(e.Certificate, out StapledCertificate? entry)
            || _byThumbprint.TryGetValue(e.Certificate.GetCertHashString(HashAlgorithmName.SHA256), out entry))
        {
            Refresh(entry);
        }
    }

    /// <summary>Writes what the provider serves now (its lookup applies validity, revocation and expiry rules) into the context.</summary>
    private void Refresh(StapledCertificate entry)
    {
        OcspStaple? staple = _provider.TryGetCachedStaple(entry.Certificate, out OcspStaple? current) ? current : null;
        if (!entry.Apply(staple))
        {
            return;
        }

        if (staple is not null)
        {
            Log.StapleApplied(_logger, entry.DisplayName, staple.Status, staple.ThisUpdate, staple.NextUpdate);
            return;
        }

        Log.StapleRemoved(_logger, entry.DisplayName);
        if (entry.IsMustStaple)
        {
            Log.MustStapleWithoutStaple(_logger, entry.DisplayName);
        }
    }
}
