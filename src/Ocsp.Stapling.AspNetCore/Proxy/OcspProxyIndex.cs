using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using Ocsp.Stapling.Internal;

namespace Ocsp.Stapling.AspNetCore.Internal;

/// <summary>
/// What the proxy knows: registered certificates by CertID (SHA-1 and SHA-256), responders by issuer key hash, and the
/// set of upstream responders it may contact (allow-list, the registered certificates' responders, and the configured
/// responders of its known CAs). Kept up to date one certificate at a time as the registry changes (its events), so a
/// request costs a few dictionary reads whatever the number of certificates; readers take no lock.
/// </summary>
internal sealed class OcspProxyIndex
{
    private static readonly OcspHashAlgorithm[] Algorithms = [OcspHashAlgorithm.Sha1, OcspHashAlgorithm.Sha256];
    private readonly object _gate = new();
    private readonly ConcurrentDictionary<OcspCertificateId, OcspProxyEntry> _byId = new();
    private readonly ConcurrentDictionary<string, Uri> _responderByIssuerKey = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Uri> _allowedByAuthority = new(StringComparer.OrdinalIgnoreCase);

    // How many registered certificates name each issuer key / responder authority (under _gate): removed at zero.
    private readonly Dictionary<string, int> _issuerKeyUses = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _authorityUses = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _configuredIssuerKeys = new(StringComparer.Ordinal);
    private readonly HashSet<string> _configuredAuthorities = new(StringComparer.OrdinalIgnoreCase);

    public OcspProxyIndex(IEnumerable<Uri> allowed, IEnumerable<OcspProxyCertificateAuthority>? authorities = null)
    {
        foreach (Uri uri in allowed)
        {
            string authority = Authority(uri.Host, uri.Port);
            _configuredAuthorities.Add(authority);
            _allowedByAuthority.TryAdd(authority, uri);
        }

        // A known CA's configured responder answers for its certificates that nothing registered names.
        foreach (OcspProxyCertificateAuthority ca in authorities ?? [])
        {
            if (ca.Responder is { } responder)
            {
                foreach (OcspHashAlgorithm algorithm in Algorithms)
                {
                    string key = IssuerKey(OcspCertificateId.Create(ca.Certificate, [1], algorithm));
                    _configuredIssuerKeys.Add(key);
                    _responderByIssuerKey.TryAdd(key, responder);
                }

                string authority = Authority(responder.Host, responder.Port);
                _configuredAuthorities.Add(authority);
                _allowedByAuthority.TryAdd(authority, responder);
            }
        }
    }

    /// <summary>An index of <paramref name="states"/> (tests and the initial fill).</summary>
    public OcspProxyIndex(IEnumerable<OcspCertificateState> states, IEnumerable<Uri> allowed, IEnumerable<OcspProxyCertificateAuthority>? authorities = null)
        : this(allowed, authorities)
    {
        foreach (OcspCertificateState state in states)
        {
            if (state.Certificate is { } certificate)
            {
                Add(certificate, state.Issuer, state.ResponderUris);
            }
        }
    }

    public int Count => _byId.Count / Algorithms.Length;

    /// <summary>Adds a registered certificate (idempotent).</summary>
    public void Add(X509Certificate2 certificate, X509Certificate2 issuer, IReadOnlyList<Uri> responderUris)
    {
        var entry = new OcspProxyEntry(certificate, issuer, responderUris);
        lock (_gate)
        {
            if (!_byId.TryAdd(entry.Ids[0], entry))
            {
                return;
            }

            for (int i = 1; i < entry.Ids.Length; i++)
            {
                _byId[entry.Ids[i]] = entry;
            }

            if (responderUris.Count > 0)
            {
                foreach (OcspCertificateId id in entry.Ids)
                {
                    Use(_issuerKeyUses, IssuerKey(id));
                    _responderByIssuerKey.TryAdd(IssuerKey(id), responderUris[0]);
                }
            }

            foreach (Uri uri in responderUris)
            {
                Use(_authorityUses, Authority(uri.Host, uri.Port));
                _allowedByAuthority.TryAdd(Authority(uri.Host, uri.Port), uri);
            }
        }
    }

    /// <summary>Removes an unregistered certificate: its responders stay allowed only while another certificate or the configuration names them.</summary>
    public void Remove(X509Certificate2 certificate, X509Certificate2 issuer)
    {
        lock (_gate)
        {
            if (!_byId.TryGetValue(OcspCertificateId.Create(certificate, issuer, Algorithms[0]), out OcspProxyEntry? entry))
            {
                return;
            }

            foreach (OcspCertificateId id in entry.Ids)
            {
                _byId.TryRemove(id, out _);
                if (entry.ResponderUris.Count > 0 && Release(_issuerKeyUses, IssuerKey(id)) && !_configuredIssuerKeys.Contains(IssuerKey(id)))
                {
                    _responderByIssuerKey.TryRemove(IssuerKey(id), out _);
                }
            }

            foreach (Uri uri in entry.ResponderUris)
            {
                string authority = Authority(uri.Host, uri.Port);
                if (Release(_authorityUses, authority) && !_configuredAuthorities.Contains(authority))
                {
                    _allowedByAuthority.TryRemove(authority, out _);
                }
            }
        }
    }

    /// <summary>Finds the registered certificate a CertID names.</summary>
    public OcspProxyEntry? Find(OcspCertificateId id) => _byId.GetValueOrDefault(id);

    /// <summary>Finds the responder for a CertID: its certificate's, that of another certificate of the same issuer, or its CA's configured one.</summary>
    public Uri? ResponderFor(OcspCertificateId id) =>
        (Find(id)?.ResponderUris is [Uri own, ..] ? own : null) ?? _responderByIssuerKey.GetValueOrDefault(IssuerKey(id));

    /// <summary>
    /// Finds the allowed responder a <c>Host</c> header names as <c>host:port</c>, exactly as the index keeps it (no trailing
    /// dot): the usual form, looked up as sent. <see langword="null"/> for any other form (then <see cref="AllowedResponder"/>).
    /// </summary>
    public Uri? AllowedResponderAsSent(string host) => _allowedByAuthority.GetValueOrDefault(host);

    /// <summary>Finds the allowed responder that a <c>Host</c> header names.</summary>
    public Uri? AllowedResponder(string host, int port) => _allowedByAuthority.GetValueOrDefault(Authority(host, port));

    private static void Use(Dictionary<string, int> uses, string key) =>
        uses[key] = uses.GetValueOrDefault(key) + 1;

    /// <summary>Drops one use; true when none is left.</summary>
    private static bool Release(Dictionary<string, int> uses, string key)
    {
        int left = uses.GetValueOrDefault(key) - 1;
        if (left > 0)
        {
            uses[key] = left;
            return false;
        }

        uses.Remove(key);
        return true;
    }

    private static string IssuerKey(OcspCertificateId id) => string.Concat(id.HashAlgorithm.ToString(), ":", Convert.ToHexString(id.IssuerKeyHash.Span));

    private static string Authority(string host, int port) => $"{host.TrimEnd('.')}:{port}";
}

/// <summary>A registered certificate as the proxy's index holds it.</summary>
internal sealed class OcspProxyEntry
{
    public OcspProxyEntry(X509Certificate2 certificate, X509Certificate2 issuer, IReadOnlyList<Uri> responderUris)
    {
        Certificate = certificate;
        Issuer = issuer;
        ResponderUris = responderUris;
        Ids = [OcspCertificateId.Create(certificate, issuer, OcspHashAlgorithm.Sha1), OcspCertificateId.Create(certificate, issuer, OcspHashAlgorithm.Sha256)];
    }

    public X509Certificate2 Certificate { get; }

    public X509Certificate2 Issuer { get; }

    public IReadOnlyList<Uri> ResponderUris { get; }

    /// <summary>Its CertIDs in SHA-1 (first) and SHA-256.</summary>
    public OcspCertificateId[] Ids { get; }

    /// <summary>Gets the name for logs, made when asked for (the index holds every registered certificate).</summary>
    public string DisplayName => CertificateNames.DisplayName(Certificate);
}
