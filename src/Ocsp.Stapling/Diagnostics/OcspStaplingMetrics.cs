using System.Diagnostics.Metrics;

namespace Ocsp.Stapling.Internal;

/// <summary>
/// The <c>Ocsp.Stapling</c> meter and its instruments. Cardinality is bounded by default: the gauges aggregate over every
/// registered certificate (by state, the minimum time to nextUpdate, how many expire within a day); per-certificate
/// series (one per certificate name) only with <see cref="OcspStaplingOptions.PerCertificateMetrics"/>.
/// </summary>
internal sealed class OcspStaplingMetrics : IDisposable
{
    public const string MeterName = "Ocsp.Stapling";

    private readonly Meter _meter;

    private readonly RegistrationStore _store;
    private readonly TimeProvider _time;

    private static readonly TimeSpan ExpiringWithin = TimeSpan.FromDays(1);
    private static readonly KeyValuePair<string, object?>[] StateTags =
        [new("state", "stapled"), new("state", "revoked"), new("state", "no_staple"), new("state", "no_responder")];

    public OcspStaplingMetrics(IMeterFactory? meterFactory, RegistrationStore store, TimeProvider time, bool perCertificate = false)
    {
        _store = store;
        _time = time;
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        Fetches = _meter.CreateCounter<long>("ocsp.stapling.fetch.count", "{fetch}", "OCSP fetches by outcome (success, failure) and reason.");
        // Seconds, so the exporters' default (millisecond-sized) buckets would put every fetch in the first: give our own.
        FetchDuration = _meter.CreateHistogram<double>(
            "ocsp.stapling.fetch.duration",
            "s",
            "Duration of OCSP fetches, retries included.",
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });
        Lookups = _meter.CreateCounter<long>("ocsp.stapling.cache.lookups", "{lookup}", "Staple lookups by cache level (l1, l2) and result (hit, miss).");
        CacheErrors = _meter.CreateCounter<long>("ocsp.stapling.cache.errors", "{error}", "Shared cache (L2) failures by operation (read, write).");
        Revocations = _meter.CreateCounter<long>("ocsp.stapling.revoked", "{response}", "Validated responses saying a registered certificate is revoked.");
        _meter.CreateObservableGauge("ocsp.stapling.certificates", CertificatesByState, "{certificate}", "Registered certificates by state (stapled, revoked, no_staple, no_responder).");
        _meter.CreateObservableGauge(
            "ocsp.stapling.staple.min_time_to_next_update", MinTimeToNextUpdate, "s", "Seconds until the earliest nextUpdate of the valid staples held (none when none is held).");
        _meter.CreateObservableGauge("ocsp.stapling.staples.expiring", ExpiringSoon, "{staple}", "Valid staples held whose nextUpdate is less than a day away.");
        if (perCertificate)
        {
            _meter.CreateObservableGauge("ocsp.stapling.staple.age", StapleAges, "s", "Seconds since the staple's thisUpdate, per certificate.");
            _meter.CreateObservableGauge("ocsp.stapling.staple.time_to_next_update", TimesToNextUpdate, "s", "Seconds until the staple's nextUpdate, per certificate.");
        }
    }

    public Counter<long> Fetches { get; }

    public Histogram<double> FetchDuration { get; }

    public Counter<long> Lookups { get; }

    public Counter<long> CacheErrors { get; }

    public Counter<long> Revocations { get; }

    public void Dispose() => _meter.Dispose();

    private Measurement<long>[] CertificatesByState()
    {
        DateTimeOffset now = _time.GetUtcNow();
        long stapled = 0, revoked = 0, none = 0, noResponder = 0;
        foreach (Registration registration in _store.All)
        {
            OcspStaple? held = RegistrationStore.Held(registration, now);
            if (held?.Status == OcspCertificateStatus.Revoked)
            {
                revoked++;
            }
            else if (held is not null && registration.Servable is not null)
            {
                stapled++;
            }
            else if (!registration.HasResponder)
            {
                noResponder++;
            }
            else
            {
                none++;
            }
        }

        return [new(stapled, StateTags[0]), new(revoked, StateTags[1]), new(none, StateTags[2]), new(noResponder, StateTags[3])];
    }

    private IEnumerable<Measurement<double>> MinTimeToNextUpdate()
    {
        DateTimeOffset now = _time.GetUtcNow();
        DateTimeOffset? earliest = null;
        foreach (Registration registration in _store.All)
        {
            if (RegistrationStore.Held(registration, now) is { } staple && (earliest is null || staple.NextUpdate < earliest))
            {
                earliest = staple.NextUpdate;
            }
        }

        return earliest is { } at ? [new Measurement<double>((at - now).TotalSeconds)] : [];
    }

    private long ExpiringSoon()
    {
        DateTimeOffset now = _time.GetUtcNow();
        long count = 0;
        foreach (Registration registration in _store.All)
        {
            if (RegistrationStore.Held(registration, now) is { } staple && staple.NextUpdate - now < ExpiringWithin)
            {
                count++;
            }
        }

        return count;
    }

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
