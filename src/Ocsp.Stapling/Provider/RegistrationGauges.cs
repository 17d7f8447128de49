using System.Diagnostics.Metrics;

namespace Ocsp.Stapling.Internal;

/// <summary>
/// The gauges of the <c>Ocsp.Stapling</c> meter over every registered certificate. Cardinality is bounded by default:
/// they aggregate (by state, the minimum time to nextUpdate, how many expire within a day); per-certificate series (one
/// per certificate name) only with <see cref="OcspStaplingOptions.PerCertificateMetrics"/>. Each reads each registration's
/// snapshot once.
/// </summary>
internal sealed class RegistrationGauges
{
    private static readonly TimeSpan ExpiringWithin = TimeSpan.FromDays(1);
    private static readonly KeyValuePair<string, object?>[] StateTags =
        [new("state", "stapled"), new("state", "revoked"), new("state", "no_staple"), new("state", "no_responder")];

    private readonly RegistrationStore _store;
    private readonly TimeProvider _time;

    public RegistrationGauges(OcspStaplingMetrics metrics, RegistrationStore store, TimeProvider time, bool perCertificate)
    {
        _store = store;
        _time = time;
        Meter meter = metrics.Meter;
        meter.CreateObservableGauge("ocsp.stapling.certificates", CertificatesByState, "{certificate}", "Registered certificates by state (stapled, revoked, no_staple, no_responder).");
        meter.CreateObservableGauge(
            "ocsp.stapling.staple.min_time_to_next_update", MinTimeToNextUpdate, "s", "Seconds until the earliest nextUpdate of the valid staples held (none when none is held).");
        meter.CreateObservableGauge("ocsp.stapling.staples.expiring", ExpiringSoon, "{staple}", "Valid staples held whose nextUpdate is less than a day away.");
        if (perCertificate)
        {
            meter.CreateObservableGauge("ocsp.stapling.staple.age", StapleAges, "s", "Seconds since the staple's thisUpdate, per certificate.");
            meter.CreateObservableGauge("ocsp.stapling.staple.time_to_next_update", TimesToNextUpdate, "s", "Seconds until the staple's nextUpdate, per certificate.");
        }
    }

    private Measurement<long>[] CertificatesByState()
    {
        DateTimeOffset now = _time.GetUtcNow();
        long stapled = 0, revoked = 0, none = 0, noResponder = 0;
        foreach (Registration registration in _store.All)
        {
            RegistrationState state = registration.State;
            OcspStaple? held = state.ValidResponse(now);
            if (held?.Status == OcspCertificateStatus.Revoked)
            {
                revoked++;
            }
            else if (held is not null && state.Served is not null)
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
            if (registration.State.ValidResponse(now) is { } staple && (earliest is null || staple.NextUpdate < earliest))
            {
                earliest = staple.NextUpdate;
            }
        }

        return earliest is { } at ? [new Measurement<double>((at - now).TotalSeconds)] : [];
    }

    private long ExpiringSoon()
    {
        DateTimeOffset now = _time.GetUtcNow();
        return _store.All.Count(r => r.State.ValidResponse(now) is { } staple && staple.NextUpdate - now < ExpiringWithin);
    }

    private IEnumerable<Measurement<double>> StapleAges() => PerCertificate(static (staple, now) => (now - staple.ThisUpdate).TotalSeconds);

    private IEnumerable<Measurement<double>> TimesToNextUpdate() => PerCertificate(static (staple, now) => (staple.NextUpdate - now).TotalSeconds);

    private IEnumerable<Measurement<double>> PerCertificate(Func<OcspStaple, DateTimeOffset, double> value)
    {
        DateTimeOffset now = _time.GetUtcNow();
        foreach (Registration registration in _store.All)
        {
            if (registration.State.ValidResponse(now) is { } staple)
            {
                yield return new Measurement<double>(value(staple, now), new KeyValuePair<string, object?>("certificate", registration.DisplayName));
            }
        }
    }
}
