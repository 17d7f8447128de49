using System.Diagnostics.Metrics;

namespace Ocsp.Stapling.Internal;

/// <summary>The <c>Ocsp.Stapling</c> meter and its instruments.</summary>
internal sealed class OcspStaplingMetrics : IDisposable
{
    public const string MeterName = "Ocsp.Stapling";

    private readonly Meter _meter;

    private readonly RegistrationStore _store;
    private readonly TimeProvider _time;

    public OcspStaplingMetrics(IMeterFactory? meterFactory, RegistrationStore store, TimeProvider time)
    {
        _store = store;
        _time = time;
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        Fetches = _meter.CreateCounter<long>("ocsp.stapling.fetch.count", "{fetch}", "OCSP fetches by outcome (success, failure) and reason.");
        FetchDuration = _meter.CreateHistogram<double>("ocsp.stapling.fetch.duration", "s", "Duration of OCSP fetches, retries included.");
        Lookups = _meter.CreateCounter<long>("ocsp.stapling.cache.lookups", "{lookup}", "Staple lookups by cache level (l1, l2) and result (hit, miss).");
        CacheErrors = _meter.CreateCounter<long>("ocsp.stapling.cache.errors", "{error}", "Shared cache (L2) failures by operation (read, write).");
        Revocations = _meter.CreateCounter<long>("ocsp.stapling.revoked", "{response}", "Validated responses saying a registered certificate is revoked.");
        _meter.CreateObservableGauge("ocsp.stapling.staple.age", StapleAges, "s", "Seconds since the staple's thisUpdate, per certificate.");
        _meter.CreateObservableGauge("ocsp.stapling.staple.time_to_next_update", TimesToNextUpdate, "s", "Seconds until the staple's nextUpdate, per certificate.");
    }

    public Counter<long> Fetches { get; }

    public Histogram<double> FetchDuration { get; }

    public Counter<long> Lookups { get; }

    public Counter<long> CacheErrors { get; }

    public Counter<long> Revocations { get; }

    public void Dispose() => _meter.Dispose();

    private IEnumerable<Measurement<double>> StapleAges()
    {
        DateTimeOffset now = _time.GetUtcNow();
        foreach (Registration registration in _store.All)
        {
            if (RegistrationStore.Held(registration, now) is { } staple)
            {
                yield return new Measurement<double>((now - staple.ThisUpdate).TotalSeconds, new KeyValuePair<string, object?>("certificate", registration.DisplayName));
            }
        }
    }

    private IEnumerable<Measurement<double>> TimesToNextUpdate()
    {
        DateTimeOffset now = _time.GetUtcNow();
        foreach (Registration registration in _store.All)
        {
            if (RegistrationStore.Held(registration, now) is { } staple)
            {
                yield return new Measurement<double>((staple.NextUpdate - now).TotalSeconds, new KeyValuePair<string, object?>("certificate", registration.DisplayName));
            }
        }
    }
}
