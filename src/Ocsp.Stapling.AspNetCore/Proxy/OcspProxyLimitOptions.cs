using System.ComponentModel.DataAnnotations;
using Ocsp.Stapling.Internal;

namespace Ocsp.Stapling.AspNetCore;

/// <summary>
/// The caching OCSP proxy's limits (<see cref="OcspProxyOptions.Limits"/>): on what a client may send, and on the upstream
/// traffic clients can cause. Past a forward limit a client gets <c>tryLater</c> at once (<c>Retry-After: 1</c>), counted by
/// <c>ocsp.stapling.proxy.forwards_refused</c> and summarised in the log once a minute: the proxy cannot be used to flood
/// a CA's responder. What the proxy holds is answered whatever the limits; the background refreshes of what it caches are
/// limited by <c>OcspFetchOptions</c> instead.
/// </summary>
public sealed class OcspProxyLimitOptions
{
    /// <summary>Gets or sets the largest POST body accepted; larger gets 413.</summary>
    /// <value>The default value is 10 KiB (a single-certificate request is about 100 bytes).</value>
    [Range(1, int.MaxValue)]
    public int MaxRequestBodySize { get; set; } = 10 * 1024;

    /// <summary>Gets or sets the longest GET request target accepted; longer gets 414.</summary>
    /// <value>The default value is 2048 characters (RFC 5019 GET requests are under 255).</value>
    [Range(1, int.MaxValue)]
    public int MaxRequestTargetLength { get; set; } = 2048;

    /// <summary>Gets or sets the largest upstream answer relayed for a forwarded request; larger is answered <c>tryLater</c>.</summary>
    /// <value>The default value is 64 KiB, the validator's default <see cref="OcspValidationOptions.MaxResponseSize"/>.</value>
    [Range(256, 16 * 1024 * 1024)]
    public int MaxResponseSize { get; set; } = 64 * 1024;

    /// <summary>Gets or sets the time limit of a forwarded (uncached) request to the upstream responder.</summary>
    /// <value>The default value is 10 seconds.</value>
    [TimeSpanRange(OptionRanges.Zero, OptionRanges.MaxTimeSpan, MinimumIsExclusive = true)]
    public TimeSpan UpstreamTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Gets or sets how many requests the proxy sends for its clients (forwards of nonce, multi-certificate and unknown-CA
    /// requests, and first requests for certificates of <see cref="OcspProxyOptions.CertificateAuthorities"/>) may be under
    /// way at once to one upstream responder.
    /// </summary>
    /// <value>The default value is 8.</value>
    [Range(1, 100_000)]
    public int MaxConcurrentForwardsPerResponder { get; set; } = 8;

    /// <summary>Gets or sets how many forwarded requests may start per second to one upstream responder (a token bucket of one second's worth).</summary>
    /// <value>The default value is 10.</value>
    [Range(0.01, 100_000d)]
    public double MaxForwardsPerSecondPerResponder { get; set; } = 10;

    /// <summary>
    /// Gets or sets how many requests of one client (an IPv4 address, or an IPv6 /64) that may reach upstream — forwards,
    /// and first requests for certificates of <see cref="OcspProxyOptions.CertificateAuthorities"/> — may be under way at
    /// once. Keep it below <see cref="MaxConcurrentForwardsPerResponder"/>, so that one client cannot take every slot of a responder.
    /// </summary>
    /// <value>The default value is 4, half of <see cref="MaxConcurrentForwardsPerResponder"/>'s default.</value>
    [Range(1, 100_000)]
    public int MaxConcurrentForwardsPerClient { get; set; } = 4;

    /// <summary>
    /// Gets or sets how many requests of one client may ask a responder per second (a token bucket of one second's worth).
    /// Keep it below <see cref="MaxForwardsPerSecondPerResponder"/>, so that a client flooding with junk serials leaves the
    /// responder's allowance to the others.
    /// </summary>
    /// <value>The default value is 5, half of <see cref="MaxForwardsPerSecondPerResponder"/>'s default.</value>
    [Range(0.01, 100_000d)]
    public double MaxForwardsPerSecondPerClient { get; set; } = 5;
}
