namespace Ocsp.Stapling;

/// <summary>What the <c>Ocsp.Stapling</c> meter reports beyond its counters and aggregate gauges (<see cref="OcspStaplingOptions.Metrics"/>).</summary>
public sealed class OcspMetricsOptions
{
    /// <summary>
    /// Gets or sets a value indicating whether the meter also reports per-certificate gauges
    /// (<c>ocsp.stapling.staple.age</c>, <c>ocsp.stapling.staple.time_to_next_update</c>, tagged with the certificate's
    /// name): one time series per certificate, so off by default; the aggregate gauges are always there.
    /// Configuration key: <c>Metrics:PerCertificate</c>.
    /// </summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool PerCertificate { get; set; }
}
