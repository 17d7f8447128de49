using System.ComponentModel.DataAnnotations;

namespace Ocsp.Stapling;

/// <summary>
/// The outbound HTTP proxy responders are asked through (<see cref="OcspFetchOptions.Proxy"/>, configuration section
/// <c>Fetch:Proxy</c>): for servers behind a firewall that allows the web only through a forward proxy. Plain
/// <c>http://</c> responders are asked through it as an HTTP proxy, <c>https://</c> ones through a <c>CONNECT</c> tunnel.
/// By default the environment's proxy is used (<c>HTTP_PROXY</c>, <c>HTTPS_PROXY</c>, <c>ALL_PROXY</c> and <c>NO_PROXY</c>,
/// as .NET reads them), like curl and every .NET <see cref="HttpClient"/>.
/// </summary>
public sealed class OcspOutboundProxyOptions : IValidatableObject
{
    /// <summary>
    /// Gets or sets the proxy, e.g. <c>http://proxy.internal:3128</c>; <c>http://user:password@proxy.internal:3128</c> adds
    /// Basic credentials (percent-encoded as in any URL). Logs and messages name the proxy without them. When set, the
    /// environment's proxy is not used. Key: <c>Fetch:Proxy:Address</c>.
    /// </summary>
    /// <value>The default value is <see langword="null"/>: the environment's proxy, if <see cref="UseEnvironment"/>.</value>
    public Uri? Address { get; set; }

    /// <summary>
    /// Gets host names asked directly, not through <see cref="Address"/>: <c>ocsp.internal</c> (that host and every host
    /// under it, as <c>NO_PROXY</c> reads it), <c>.internal</c> (hosts under it), an IP address, or <c>*</c> (every host).
    /// Section: <c>Fetch:Proxy:Bypass</c>.
    /// </summary>
    public IList<string> Bypass { get; } = [];

    /// <summary>
    /// Gets or sets a value indicating whether, without an <see cref="Address"/>, the environment's proxy is used
    /// (<c>HTTP_PROXY</c>, <c>HTTPS_PROXY</c>, <c>ALL_PROXY</c>, <c>NO_PROXY</c>); <see langword="false"/> asks every
    /// responder directly whatever the environment says. Key: <c>Fetch:Proxy:UseEnvironment</c>.
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool UseEnvironment { get; set; } = true;

    /// <inheritdoc />
    IEnumerable<ValidationResult> IValidatableObject.Validate(ValidationContext validationContext)
    {
        if (Address is { } address && (!address.IsAbsoluteUri || address.Scheme != Uri.UriSchemeHttp || address.Host.Length == 0 || address.AbsolutePath != "/"))
        {
            yield return new ValidationResult(
                $"OcspStaplingOptions.Fetch.Proxy.Address must be an http:// URL of a proxy, host and port only (was '{Internal.OutboundProxy.Describe(address)}').", [nameof(Address)]);
        }

        foreach (string host in Bypass)
        {
            if (string.IsNullOrWhiteSpace(host) || host.Contains('/', StringComparison.Ordinal))
            {
                yield return new ValidationResult($"OcspStaplingOptions.Fetch.Proxy.Bypass: '{host}' is not a host name, a .domain, an IP address or '*'.", [nameof(Bypass)]);
            }
        }
    }
}
