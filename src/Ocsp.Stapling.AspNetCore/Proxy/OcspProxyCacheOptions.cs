using System.ComponentModel.DataAnnotations;
using Ocsp.Stapling.Internal;

namespace Ocsp.Stapling.AspNetCore;

/// <summary>
/// What the caching OCSP proxy keeps of the certificates it learns on their first request (those of
/// <see cref="OcspProxyOptions.CertificateAuthorities"/>), and how long clients may cache its answers
/// (<see cref="OcspProxyOptions.Cache"/>).
/// </summary>
public sealed class OcspProxyCacheOptions
{
    /// <summary>
    /// Gets or sets how long a certificate of <see cref="OcspProxyOptions.CertificateAuthorities"/> stays cached and
    /// refreshed after its last request. Then it is forgotten: unregistered, no longer refreshed; its shared-store entry
    /// expires at its nextUpdate (another proxy of the fleet may still be serving it).
    /// </summary>
    /// <value>The default value is 7 days.</value>
    [TimeSpanRange(OptionRanges.OneMinute, OptionRanges.MaxTimeSpan)]
    public TimeSpan ForgetAfter { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// Gets or sets how many certificates of one of <see cref="OcspProxyOptions.CertificateAuthorities"/> are cached at
    /// most. At the cap, a further one evicts the one asked for least recently (forgotten as after
    /// <see cref="ForgetAfter"/>): a client cannot lock the cache, and what is asked for often stays.
    /// </summary>
    /// <value>The default value is 10,000.</value>
    [Range(1, int.MaxValue)]
    public int MaxCertificatesPerAuthority { get; set; } = 10_000;

    /// <summary>
    /// Gets or sets how long a responder's signed <c>unknown</c> answer for a CertID of a known CA is kept and given again
    /// (never past its nextUpdate, and never refreshed): the same junk serial asked again costs nobody a request.
    /// </summary>
    /// <value>The default value is 10 minutes.</value>
    [TimeSpanRange(OptionRanges.Zero, OptionRanges.OneDay)]
    public TimeSpan UnknownAnswerTime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Gets or sets how many unknown answers are kept at most (when full, the oldest go first; requests under way count too).</summary>
    /// <value>The default value is 10,000.</value>
    [Range(1, 10_000_000)]
    public int MaxUnknownAnswers { get; set; } = 10_000;

    /// <summary>Gets or sets the cap on the <c>Cache-Control: max-age</c> of the proxy's answers (which otherwise runs until the response's nextUpdate).</summary>
    /// <value>The default value is 1 day.</value>
    [TimeSpanRange(OptionRanges.Zero, OptionRanges.MaxTimeSpan)]
    public TimeSpan MaxClientCacheAge { get; set; } = TimeSpan.FromDays(1);
}
