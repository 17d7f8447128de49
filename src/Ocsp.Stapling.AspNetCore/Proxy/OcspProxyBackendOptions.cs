using System.ComponentModel.DataAnnotations;
using Ocsp.Stapling.Internal;

namespace Ocsp.Stapling.AspNetCore;

/// <summary>The responders the caching OCSP proxy fronts under their own public names, and how it treats a failing backend (<see cref="OcspProxyOptions.Backends"/>).</summary>
public sealed class OcspProxyBackendOptions
{
    /// <summary>
    /// Gets the responders fronted (<c>serve --backend</c>): a request whose <c>Host</c> and path name an
    /// <see cref="OcspProxyBackend.PublicUrl"/> is answered from the validated cache for certificates of
    /// <see cref="OcspProxyOptions.CertificateAuthorities"/> (asked of the backends on a miss and at each refresh), and
    /// forwarded uncached to the backends otherwise (nonce, several certificates, another issuer). GET requests there
    /// follow RFC 5019: an encoded request over <see cref="OcspHttpEncoding.MaxGetRequestLength"/> bytes gets 414, one that
    /// does not decode gets <c>malformedRequest</c>; <c>Cache-Control: no-cache</c> never bypasses the cache. Any other
    /// path under a public name gets 404. The public names are never contacted.
    /// </summary>
    public IList<OcspProxyBackend> Responders { get; } = [];

    /// <summary>
    /// Gets or sets how long a backend that failed (no connection, a timeout, an HTTP error, an answer that does not
    /// validate) is tried only after the others; once it has passed, it is tried in its turn again.
    /// </summary>
    /// <value>The default value is 30 seconds.</value>
    [TimeSpanRange(OptionRanges.Zero, OptionRanges.OneDay)]
    public TimeSpan FailedBackendSkipTime { get; set; } = TimeSpan.FromSeconds(30);
}
