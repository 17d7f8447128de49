using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Logging;

namespace Ocsp.Stapling.Internal;

/// <summary>
/// The provider: L1 snapshot read lock-free on the handshake path, L2 shared cache consulted before any upstream fetch,
/// single-flight refreshes, and the schedule the background service runs.
/// </summary>
internal sealed partial class OcspResponseProvider : IOcspResponseProvider, IOcspCertificateRegistry, IDisposable
{
    private static readonly KeyValuePair<string, object?> L1Tag = new("level", "l1");
    private static readonly KeyValuePair<string, object?> HitTag = new("result", "hit");
    private static readonly KeyValuePair<string, object?> MissTag = new("result", "miss");

    private readonly TimeProvider _time;
    private readonly OcspStaplingOptions _options;
    private readonly OcspFetcher _fetcher;
    private readonly IDistributedCache? _cache;
    private readonly ILogger _logger;
    private readonly OcspStaplingMetrics _metrics;
    private readonly System.Diagnostics.Metrics.Counter<long> _lookups;
    private readonly Random _random;
    private readonly object _gate = new();
    private Snapshot _snapshot = Snapshot.Empty;
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public OcspResponseProvider(
        OcspFetcher fetcher,
        OcspStaplingOptions options,
        TimeProvider time,
        IDistributedCache? cache,
        ILogger logger,
        IMeterFactory? meterFactory,
        Random? random = null)
    {
        _fetcher = fetcher;
        _options = options;
        _time = time;
        _cache = cache;
        _logger = logger;
        _random = random ?? Random.Shared;
        _metrics = new OcspStaplingMetrics(meterFactory, StapleAges, TimesToNextUpdate);
        _lookups = _metrics.Lookups;
    }

    public event EventHandler<OcspStapleUpdatedEventArgs>? StapleUpdated;

    public event EventHandler<OcspStapleRemovedEventArgs>? StapleRemoved;

    public event EventHandler<OcspStapleFailedEventArgs>? StapleFailed;

    public event EventHandler<OcspCertificateRevokedEventArgs>? CertificateRevoked;

    internal OcspStaplingMetrics Metrics => _metrics;

    public bool TryGetCachedStaple(X509Certificate2 certificate, [NotNullWhen(true)] out OcspStaple? staple)
    {
        // The handshake path: one volatile read, one dictionary hit, one field read. No lock, no clock, no allocation.
        Snapshot snapshot = Volatile.Read(ref _snapshot);
        if ((snapshot.ByReference.TryGetValue(certificate, out Registration? registration)
                || snapshot.ByRawData.TryGetValue(certificate.RawDataMemory, out registration))
            && registration.Servable is { } servable)
        {
            if (_lookups.Enabled)
            {
                _lookups.Add(1, L1Tag, HitTag);
            }

            staple = servable;
            return true;
        }

        if (_lookups.Enabled)
        {
            _lookups.Add(1, L1Tag, MissTag);
        }

        staple = null;
        return false;
    }

    public async ValueTask<OcspStaple?> GetStapleAsync(X509Certificate2 certificate, X509Certificate2 issuer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(issuer);
        if (TryGetCachedStaple(certificate, out OcspStaple? cached))
        {
            return cached;
        }

        Register(certificate, issuer);
        Registration registration = Find(certificate) ?? throw new InvalidOperationException("The certificate was unregistered concurrently.");
        OcspStaple? held = registration.Staple;
        if (held is not null && held.IsValidAt(_time.GetUtcNow()) && !IsServable(held))
        {
            return null; // Revoked and not to be stapled: asking the responder again changes nothing.
        }

        if (registration.ConsecutiveFailures > 0 && _time.GetUtcNow() < registration.NextRefresh)
        {
            return null; // Inside the failure back-off: callers must not turn a responder outage into a request storm.
        }

        return await RefreshAsync(registration, servePersisted: true).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public bool Register(X509Certificate2 certificate, X509Certificate2 issuer)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(issuer);
        Registration registration;
        lock (_gate)
        {
            if (_snapshot.ByRawData.ContainsKey(certificate.RawDataMemory))
            {
                return false;
            }

            (IReadOnlyList<Uri> responders, bool disabled) = ResolveResponders(certificate, issuer);
            registration = new Registration(certificate, issuer, responders, disabled) { NextRefresh = _time.GetUtcNow() };
            _snapshot = _snapshot.With(registration);
            _wake.TrySetResult();
        }

        Log.CertificateRegistered(_logger, registration.DisplayName, certificate.IsMustStaple(), string.Join(", ", registration.ResponderUris));
        if (registration.ResponderDisabled || registration.ResponderUris.Count == 0)
        {
            Log.NoResponder(_logger, registration.DisplayName, registration.ResponderDisabled ? "disabled by override" : "no OCSP URL in AIA and no override");
        }

        return true;
    }

    public bool Unregister(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        Registration? registration;
        lock (_gate)
        {
            if (!_snapshot.ByRawData.TryGetValue(certificate.RawDataMemory, out registration))
            {
                return false;
            }

            _snapshot = _snapshot.Without(registration);
        }

        OcspStaple? served;
        lock (registration)
        {
            served = registration.Servable;
            registration.Removed = true;
            registration.Servable = null;
            registration.ExpiryTimer?.Dispose();
            registration.ExpiryTimer = null;
        }

        Log.CertificateUnregistered(_logger, registration.DisplayName);
        if (served is not null)
        {
            Raise(StapleRemoved, new OcspStapleRemovedEventArgs(registration.Certificate, served, OcspStapleRemovalReason.Unregistered));
        }

        return true;
    }

    public IReadOnlyList<OcspCertificateState> GetStates() => Array.ConvertAll(Volatile.Read(ref _snapshot).All, r => r.ToState());

    public void Dispose()
    {
        foreach (Registration registration in Volatile.Read(ref _snapshot).All)
        {
            lock (registration)
            {
                registration.ExpiryTimer?.Dispose();
                registration.ExpiryTimer = null;
            }
        }

        _metrics.Dispose();
    }

    internal Registration? Find(X509Certificate2 certificate)
    {
        Snapshot snapshot = Volatile.Read(ref _snapshot);
        return snapshot.ByReference.TryGetValue(certificate, out Registration? registration)
            || snapshot.ByRawData.TryGetValue(certificate.RawDataMemory, out registration)
            ? registration
            : null;
    }

    private bool IsServable(OcspStaple staple) =>
        staple.Status == OcspCertificateStatus.Good || (staple.Status == OcspCertificateStatus.Revoked && _options.StapleRevoked);

    private (IReadOnlyList<Uri> Responders, bool Disabled) ResolveResponders(X509Certificate2 certificate, X509Certificate2 issuer)
    {
        IDictionary<string, string> overrides = _options.Fetch.ResponderOverrides;
        if (overrides.TryGetValue(certificate.Thumbprint, out string? value) || overrides.TryGetValue(issuer.Thumbprint, out value))
        {
            return string.Equals(value, OcspStaplingOptions.DisabledResponder, StringComparison.OrdinalIgnoreCase)
                ? ([], true)
                : ([new Uri(value, UriKind.Absolute)], false);
        }

        return (certificate.GetOcspResponderUris(), false);
    }

    private IEnumerable<Measurement<double>> StapleAges()
    {
        DateTimeOffset now = _time.GetUtcNow();
        foreach (Registration registration in Volatile.Read(ref _snapshot).All)
        {
            if (registration.Staple is { } staple && staple.IsValidAt(now))
            {
                yield return new Measurement<double>((now - staple.ThisUpdate).TotalSeconds, new KeyValuePair<string, object?>("certificate", registration.DisplayName));
            }
        }
    }

    private IEnumerable<Measurement<double>> TimesToNextUpdate()
    {
        DateTimeOffset now = _time.GetUtcNow();
        foreach (Registration registration in Volatile.Read(ref _snapshot).All)
        {
            if (registration.Staple is { } staple && staple.IsValidAt(now))
            {
                yield return new Measurement<double>((staple.NextUpdate - now).TotalSeconds, new KeyValuePair<string, object?>("certificate", registration.DisplayName));
            }
        }
    }

    private void Raise<T>(EventHandler<T>? handler, T args)
    {
        if (handler is null)
        {
            return;
        }

        // One failing subscriber must not stop the others nor the scheduler.
        foreach (EventHandler<T> subscriber in handler.GetInvocationList().Cast<EventHandler<T>>())
        {
            try
            {
                subscriber(this, args);
            }
#pragma warning disable CA1031 // Subscriber code is not ours; log and carry on.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.SchedulerError(_logger, ex);
            }
        }
    }

    /// <summary>Immutable registry view: replaced on register/unregister, read without locks.</summary>
    private sealed class Snapshot
    {
        public static readonly Snapshot Empty = new([]);

        private Snapshot(Registration[] all)
        {
            All = all;
            ByReference = new Dictionary<X509Certificate2, Registration>(all.Length, ReferenceEqualityComparer.Instance);
            ByRawData = new Dictionary<ReadOnlyMemory<byte>, Registration>(all.Length, RawDataComparer.Instance);
            foreach (Registration registration in all)
            {
                ByReference[registration.Certificate] = registration;
                ByRawData[registration.Certificate.RawDataMemory] = registration;
            }
        }

        public Registration[] All { get; }

        public Dictionary<X509Certificate2, Registration> ByReference { get; }

        public Dictionary<ReadOnlyMemory<byte>, Registration> ByRawData { get; }

        public Snapshot With(Registration registration) => new([.. All, registration]);

        public Snapshot Without(Registration registration) => new(All.Where(r => r != registration).ToArray());
    }
}
