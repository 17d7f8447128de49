namespace Ocsp.Stapling.AspNetCore.Internal;

/// <summary>
/// What the proxy knows: registered certificates by CertID (SHA-1 and SHA-256), responders by issuer key hash, and the
/// set of upstream responders it may contact (allow-list, the registered certificates' responders, and the configured
/// responders of its known CAs). Rebuilt when the
/// set of registered certificates changes (the proxy rebuilds it on the next request).
/// </summary>
internal sealed class OcspProxyIndex
{
    private static readonly OcspHashAlgorithm[] Algorithms = [OcspHashAlgorithm.Sha1, OcspHashAlgorithm.Sha256];
    private readonly Dictionary<OcspCertificateId, OcspCertificateState> _byId = [];
    private readonly Dictionary<string, Uri> _responderByIssuerKey = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Uri> _allowedByAuthority = new(StringComparer.OrdinalIgnoreCase);
    public OcspProxyIndex(IReadOnlyList<OcspCertificateState> states, IEnumerable<Uri> allowed, IEnumerable<OcspProxyCertificateAuthority>? authorities = null)
    {
        foreach (Uri uri in allowed)
        {
            _allowedByAuthority.TryAdd(Authority(uri.Host, uri.Port), uri);
        }

        foreach (OcspCertificateState state in states)
        {
            if (state.Certificate is null)
            {
                continue; // registered by CertID (the proxy's own cache of a known CA): not a certificate of the index
            }

            foreach (OcspHashAlgorithm algorithm in Algorithms)
            {
                OcspCertificateId id = OcspCertificateId.Create(state.Certificate, state.Issuer, algorithm);
                _byId.TryAdd(id, state);
                if (state.ResponderUris.Count > 0)
                {
                    _responderByIssuerKey.TryAdd(Convert.ToHexString(id.IssuerKeyHash.Span), state.ResponderUris[0]);
                }
            }

            foreach (Uri uri in state.ResponderUris)
            {
                _allowedByAuthority.TryAdd(Authority(uri.Host, uri.Port), uri);
            }
        }

        // A known CA's configured responder answers for its certificates that nothing registered names.
        foreach (OcspProxyCertificateAuthority authority in authorities ?? [])
        {
            if (authority.Responder is { } responder)
            {
                foreach (OcspHashAlgorithm algorithm in Algorithms)
                {
                    OcspCertificateId id = OcspCertificateId.Create(authority.Certificate, [1], algorithm);
                    _responderByIssuerKey.TryAdd(Convert.ToHexString(id.IssuerKeyHash.Span), responder);
                }

                _allowedByAuthority.TryAdd(Authority(responder.Host, responder.Port), responder);
            }
        }
    }

    /// <summary>Finds the registered certificate a CertID names.</summary>
    public OcspCertificateState? Find(OcspCertificateId id) => _byId.GetValueOrDefault(id);

    /// <summary>Finds the responder for a CertID: its certificate's, or that of another certificate of the same issuer.</summary>
    public Uri? ResponderFor(OcspCertificateId id) =>
        (Find(id)?.ResponderUris is [Uri own, ..] ? own : null) ?? _responderByIssuerKey.GetValueOrDefault(Convert.ToHexString(id.IssuerKeyHash.Span));

    /// <summary>Finds the allowed responder that a <c>Host</c> header names.</summary>
    public Uri? AllowedResponder(string host, int port) => _allowedByAuthority.GetValueOrDefault(Authority(host, port));

    private static string Authority(string host, int port) => $"{host.TrimEnd('.')}:{port}";
}
