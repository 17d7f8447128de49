using System.Diagnostics.Metrics;
using Ocsp.Stapling.Internal;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tests.Diagnostics;

/// <summary>The meter's gauges: bounded cardinality by default (aggregates), per-certificate series only when asked for.</summary>
public sealed class MetricsTests(ResponderFixture fixture) : IClassFixture<ResponderFixture>
{
    private readonly FakeTimeProvider _time = fixture.Reset();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Gauges_AggregateByDefault_PerCertificateOnlyWhenAskedFor(bool perCertificate)
    {
        using var host = new ProviderHost(_time, b => b.UseMemoryOnly(), o => o.PerCertificateMetrics = perCertificate);
        host.Provider.RegisterAll([(fixture.Pki.Leaf, fixture.Pki.Intermediate), (fixture.Pki.LeafWithoutAia, fixture.Pki.Intermediate), (fixture.NewLeaf("metrics"), fixture.Pki.Intermediate)]);
        await host.RunDueAsync(CancellationToken.None);
        _time.Advance(TimeSpan.FromDays(3.5)); // the 4-day staples are now within a day of their nextUpdate

        Dictionary<string, List<(double Value, KeyValuePair<string, object?>[] Tags)>> observed = Observe(host);

        Assert.Equal(
            [("no_responder", 1d), ("no_staple", 0d), ("revoked", 0d), ("stapled", 2d)],
            observed["ocsp.stapling.certificates"].Select(m => ((string)m.Tags.Single(t => t.Key == "state").Value!, m.Value)).OrderBy(m => m.Item1));
        Assert.Equal(TimeSpan.FromHours(12).TotalSeconds, Assert.Single(observed["ocsp.stapling.staple.min_time_to_next_update"]).Value);
        Assert.Equal(2, Assert.Single(observed["ocsp.stapling.staples.expiring"]).Value);
        Assert.All(observed.Where(o => !o.Key.StartsWith("ocsp.stapling.staple.age", StringComparison.Ordinal) && !o.Key.EndsWith("time_to_next_update", StringComparison.Ordinal)).SelectMany(o => o.Value),
            m => Assert.DoesNotContain(m.Tags, t => t.Key == "certificate"));
        Assert.Equal(perCertificate, observed.ContainsKey("ocsp.stapling.staple.age"));
        Assert.Equal(perCertificate ? 2 : 0, observed.GetValueOrDefault("ocsp.stapling.staple.time_to_next_update")?.Count ?? 0);
        Assert.Contains(host.Logs.Entries, e => e.EventId == Log.CertificatesRegisteredId && e.Message.Contains("3 more certificate(s)", StringComparison.Ordinal));
    }

    [Fact]
    public void RegisterAll_AWrongIssuer_RegistersNothing_AndNamesThePosition()
    {
        using var host = new ProviderHost(_time, b => b.UseMemoryOnly());

        ArgumentException error = Assert.Throws<ArgumentException>(
            () => host.Provider.RegisterAll([(fixture.Pki.Leaf, fixture.Pki.Intermediate), (fixture.Pki.Leaf, fixture.Pki.Root)]));

        Assert.Contains("Element 1", error.Message, StringComparison.Ordinal);
        Assert.Empty(host.Provider.GetStates());
        Assert.Equal(1, host.Provider.RegisterAll([(fixture.Pki.Leaf, fixture.Pki.Intermediate), (fixture.Pki.Leaf, fixture.Pki.Intermediate)]));
    }

    private static Dictionary<string, List<(double Value, KeyValuePair<string, object?>[] Tags)>> Observe(ProviderHost host)
    {
        Meter meter = host.Metrics.Fetches.Meter;
        var observed = new Dictionary<string, List<(double, KeyValuePair<string, object?>[])>>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (i, l) =>
        {
            if (ReferenceEquals(i.Meter, meter))
            {
                l.EnableMeasurementEvents(i);
            }
        };
        void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            if (!observed.TryGetValue(instrument.Name, out var list))
            {
                observed[instrument.Name] = list = [];
            }

            list.Add((value, tags.ToArray()));
        }

        listener.SetMeasurementEventCallback<long>((i, v, t, _) => Add(i, v, t));
        listener.SetMeasurementEventCallback<double>((i, v, t, _) => Add(i, v, t));
        listener.Start();
        listener.RecordObservableInstruments();
        return observed;
    }
}
