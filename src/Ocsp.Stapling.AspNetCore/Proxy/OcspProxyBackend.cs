namespace Ocsp.Stapling.AspNetCore;

/// <summary>
/// The proxy as a caching front of a CA's own responder, deployed under that responder's public name (the EJBCA seed's
/// Apache cache with its balancer members): a request whose <c>Host</c> and path name <see cref="PublicUrl"/> is
/// answered from the validated cache (certificates of <see cref="OcspProxyOptions.CertificateAuthorities"/>), and what
/// the cache does not hold is asked of <see cref="Backends"/>, never of the public name itself.
/// </summary>
public sealed class OcspProxyBackend
{
    /// <summary>Initializes a new instance.</summary>
    /// <param name="publicUrl">The responder URL clients use (the AIA URL of the CA's certificates), e.g. <c>http://ocsp.ca.example/</c>.</param>
    /// <param name="backends">
    /// The responder instances behind it, tried in this order: one that fails (no connection, a timeout, an HTTP error, an
    /// answer that does not validate) is skipped for <see cref="OcspProxyBackendOptions.FailedBackendSkipTime"/>.
    /// </param>
    public OcspProxyBackend(Uri publicUrl, IEnumerable<Uri> backends)
    {
        ArgumentNullException.ThrowIfNull(publicUrl);
        ArgumentNullException.ThrowIfNull(backends);
        PublicUrl = publicUrl;
        Backends = [.. backends];
    }

    /// <summary>Gets the responder URL clients use.</summary>
    public Uri PublicUrl { get; }

    /// <summary>Gets the responder instances behind <see cref="PublicUrl"/>, in the order they are tried.</summary>
    public IReadOnlyList<Uri> Backends { get; }
}
