using System.Diagnostics.Metrics;

namespace Ocsp.Stapling.Internal;

/// <summary>
/// The <c>Ocsp.Stapling</c> meter and its counters and histogram. The gauges over the registered certificates are added
/// by the provider (<see cref="RegistrationGauges"/>), which holds them.
/// </summary>
internal sealed class OcspStaplingMetrics : IDisposable
{
    public const string MeterName = "Ocsp.Stapling";

    public OcspStaplingMetrics(IMeterFactory? meterFactory)
    {
        Meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        Fetches = Meter.CreateCounter<long>("ocsp.stapling.fetch.count", "{fetch}", "OCSP fetches by outcome (success, failure) and reason (an OcspFailureReason name; validation_failure names the check a rejected response failed).");

        // Seconds, so the exporters' default (millisecond-sized) buckets would put every fetch in the first: give our own.
        FetchDuration = Meter.CreateHistogram<double>(
            "ocsp.stapling.fetch.duration",
            "s",
            "Duration of OCSP fetches, retries included.",
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });
        Lookups = Meter.CreateCounter<long>("ocsp.stapling.cache.lookups", "{lookup}", "Staple lookups by cache level (l1, l2) and result (hit, miss).");
        CacheErrors = Meter.CreateCounter<long>("ocsp.stapling.cache.errors", "{error}", "Shared cache (L2) failures by operation (read, write, remove).");
        CacheOversized = Meter.CreateCounter<long>(
            "ocsp.stapling.cache.oversized", "{entry}", "Shared cache (L2) entries refused unread: larger than the largest valid entry (OcspValidationOptions.MaxResponseSize).");
        Revocations = Meter.CreateCounter<long>("ocsp.stapling.revoked", "{response}", "Validated responses saying a registered certificate is revoked.");
        ClientCertificateChecks = Meter.CreateCounter<long>(
            "ocsp.stapling.client_certificate.checks",
            "{check}",
            "Client-certificate revocation checks by decision (accepted, rejected) and reason (good, revoked, unknown, no_answer, timeout, pending, no_responder; refused before any revocation check: no_certificate, untrusted_chain, check_failed).");
    }

    public Meter Meter { get; }

    public Counter<long> Fetches { get; }

    public Histogram<double> FetchDuration { get; }

    public Counter<long> Lookups { get; }

    public Counter<long> CacheErrors { get; }

    public Counter<long> CacheOversized { get; }

    public Counter<long> Revocations { get; }

    public Counter<long> ClientCertificateChecks { get; }

    public void Dispose() => Meter.Dispose();
}
