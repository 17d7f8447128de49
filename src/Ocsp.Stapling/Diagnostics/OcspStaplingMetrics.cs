using System.Diagnostics.Metrics;

namespace Ocsp.Stapling.Internal;

/// <summary>The <c>Ocsp.Stapling</c> meter and its instruments.</summary>
internal sealed class OcspStaplingMetrics : IDisposable
{
    public const string MeterName = "Ocsp.Stapling";

    private readonly Meter _meter;

    public OcspStaplingMetrics(IMeterFactory? meterFactory, Func<IEnumerable<Measurement<double>>> stapleAge, Func<IEnumerable<Measurement<double>>> timeToNextUpdate)
    {
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        Fetches = _meter.CreateCounter<long>("ocsp.stapling.fetch.count", "{fetch}", "OCSP fetches by outcome (success, failure) and reason.");
        FetchDuration = _meter.CreateHistogram<double>("ocsp.stapling.fetch.duration", "s", "Duration of OCSP fetches, retries included.");
        Lookups = _meter.CreateCounter<long>("ocsp.stapling.cache.lookups", "{lookup}", "Staple lookups by cache level (l1, l2) and result (hit, miss).");
        CacheErrors = _meter.CreateCounter<long>("ocsp.stapling.cache.errors", "{error}", "Shared cache (L2) failures by operation (read, write).");
        Revocations = _meter.CreateCounter<long>("ocsp.stapling.revoked", "{response}", "Validated responses saying a registered certificate is revoked.");
        _meter.CreateObservableGauge("ocsp.stapling.staple.age", stapleAge, "s", "Seconds since the staple's thisUpdate, per certificate.");
        _meter.CreateObservableGauge("ocsp.stapling.staple.time_to_next_update", timeToNextUpdate, "s", "Seconds until the staple's nextUpdate, per certificate.");
    }

    public Counter<long> Fetches { get; }

    public Histogram<double> FetchDuration { get; }

    public Counter<long> Lookups { get; }

    public Counter<long> CacheErrors { get; }

    public Counter<long> Revocations { get; }

    public void Dispose() => _meter.Dispose();
}
