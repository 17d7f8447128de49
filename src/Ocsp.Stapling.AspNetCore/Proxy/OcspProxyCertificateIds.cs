using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Ocsp.Stapling.AspNetCore.Internal;

/// <summary>
/// The certificates of the proxy's known CAs that it caches because someone asked (registered with the provider by
/// CertID), with when each was last asked for. A CertID is registered on its first request while its CA is under the
/// cap; a sweep on the <see cref="TimeProvider"/> unregisters those nobody asked for within
/// <see cref="OcspProxyOptions.ForgetAfter"/>. A request for a CertID already cached costs one dictionary lookup.
/// </summary>
internal sealed class OcspProxyCertificateIds : IDisposable
{
    private static readonly TimeSpan SwitchInterval = TimeSpan.FromMinutes(1);

    private readonly OcspCertificateRegistry _registry;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TimeSpan _forgetAfter;
    private readonly int _cap;
    private readonly Authority[] _authorities;
    private readonly ConcurrentDictionary<OcspCertificateId, Entry> _entries = new();
    private readonly ITimer? _sweep;

    public OcspProxyCertificateIds(OcspCertificateRegistry registry, OcspProxyOptions options, TimeProvider time, ILogger logger)
    {
        _registry = registry;
        _time = time;
        _logger = logger;
        _forgetAfter = options.ForgetAfter;
        _cap = options.MaxCachedCertificatesPerAuthority;
        _authorities = [.. options.CertificateAuthorities.Select(a => new Authority(a))];
        if (_authorities.Length > 0)
        {
            // Forgotten at most an eighth of ForgetAfter late (at most an hour, checked at least every minute).
            TimeSpan period = TimeSpan.FromTicks(Math.Clamp(_forgetAfter.Ticks / 8, TimeSpan.TicksPerMinute, TimeSpan.TicksPerHour));
            _sweep = time.CreateTimer(static state => ((OcspProxyCertificateIds)state!).Sweep(), this, period, period);
        }
    }

    /// <summary>Gets the number of CertIDs cached now.</summary>
    public int Count => _entries.Count;

    /// <summary>The known CA that <paramref name="id"/> names (issuer name and key hash), or <see langword="null"/>.</summary>
    public OcspProxyCertificateAuthority? AuthorityOf(OcspCertificateId id) => Find(id)?.Options;

    /// <summary>
    /// The CertID to answer from the store for <paramref name="id"/>: registered now when new (asked of
    /// <paramref name="responder"/>), its last request recorded. <see langword="null"/> when its issuer is not a known CA,
    /// or its CA is at the cap (then logged): the request is forwarded uncached.
    /// </summary>
    public OcspCertificateId? Track(OcspCertificateId id, Uri responder)
    {
        DateTimeOffset at = _time.GetUtcNow();
        long now = at.UtcTicks;
        if (_entries.TryGetValue(id, out Entry? entry))
        {
            Volatile.Write(ref entry.LastAsked, now);
            if (entry.Responder != responder)
            {
                Redirect(id, entry, responder, at);
            }

            return id;
        }

        if (Find(id) is not { } authority)
        {
            return null;
        }

        lock (authority)
        {
            if (_entries.TryGetValue(id, out entry))
            {
                Volatile.Write(ref entry.LastAsked, now);
                return id;
            }

            if (authority.Count >= _cap)
            {
                if (!authority.CapLogged)
                {
                    authority.CapLogged = true;
                    Log.ProxyCertificateIdCapReached(_logger, authority.Options.Certificate.Subject, _cap);
                }

                return null;
            }

            _registry.Register(id, authority.Options.Certificate, responder);
            _entries[id] = new Entry(authority, now, responder) { SwitchableAfter = (at + SwitchInterval).UtcTicks };
            authority.Count++;
            authority.CapLogged = false;
        }

        Log.ProxyCertificateIdCached(_logger, id.ToString(), authority.Options.Certificate.Subject, responder.ToString());
        return id;
    }

    /// <summary>Unregisters every CertID not asked for within <see cref="OcspProxyOptions.ForgetAfter"/>.</summary>
    public int Sweep()
    {
        long cutoff = (_time.GetUtcNow() - _forgetAfter).UtcTicks;
        int forgotten = 0;
        foreach (KeyValuePair<OcspCertificateId, Entry> pair in _entries)
        {
            Entry entry = pair.Value;
            if (Volatile.Read(ref entry.LastAsked) > cutoff)
            {
                continue;
            }

            lock (entry.Authority)
            {
                // Asked again since it was read above: keep it.
                if (Volatile.Read(ref entry.LastAsked) > cutoff || !_entries.TryRemove(pair))
                {
                    continue;
                }

                entry.Authority.Count--;
            }

            _registry.Unregister(pair.Key);
            forgotten++;
        }

        if (forgotten > 0)
        {
            Log.ProxyCertificateIdsForgotten(_logger, forgotten, _forgetAfter);
        }

        return forgotten;
    }

    public void Dispose() => _sweep?.Dispose();

    /// <summary>
    /// A request naming another allowed responder than the one the CertID was registered with: the first request may
    /// have named one that cannot answer for this CA, so switch to it, but only when the registration holds nothing valid
    /// and has failed, and at most once a minute (a client can neither take a working entry away nor, by alternating
    /// responders, cause more than one extra upstream request a minute).
    /// </summary>
    private void Redirect(OcspCertificateId id, Entry entry, Uri responder, DateTimeOffset now)
    {
        if (now.UtcTicks < Volatile.Read(ref entry.SwitchableAfter)
            || _registry.GetState(id) is not { ConsecutiveFailures: > 0 } state
            || (state.Staple is { } held && held.IsValidAt(now)))
        {
            return;
        }

        lock (entry.Authority)
        {
            if (entry.Responder == responder || !_entries.TryGetValue(id, out Entry? current) || !ReferenceEquals(current, entry))
            {
                return;
            }

            _registry.Unregister(id);
            _registry.Register(id, entry.Authority.Options.Certificate, responder);
            entry.Responder = responder;
            Volatile.Write(ref entry.SwitchableAfter, (now + SwitchInterval).UtcTicks);
        }

        Log.ProxyCertificateIdCached(_logger, id.ToString(), entry.Authority.Options.Certificate.Subject, responder.ToString());
    }

    private Authority? Find(OcspCertificateId id)
    {
        foreach (Authority authority in _authorities)
        {
            if (authority.Names(id))
            {
                return authority;
            }
        }

        return null;
    }

    private sealed class Authority(OcspProxyCertificateAuthority options)
    {
        // The CA's CertID hashes in the two algorithms clients use, computed once: an unknown issuer costs two comparisons per CA.
        private readonly OcspCertificateId _sha1 = OcspCertificateId.Create(options.Certificate, [1], OcspHashAlgorithm.Sha1);
        private readonly OcspCertificateId _sha256 = OcspCertificateId.Create(options.Certificate, [1], OcspHashAlgorithm.Sha256);

        public OcspProxyCertificateAuthority Options { get; } = options;

        public int Count { get; set; }

        public bool CapLogged { get; set; }

        public bool Names(OcspCertificateId id) => id.HashAlgorithm switch
        {
            OcspHashAlgorithm.Sha1 => SameIssuer(id, _sha1),
            OcspHashAlgorithm.Sha256 => SameIssuer(id, _sha256),
            _ => id.IsIssuedBy(Options.Certificate),
        };

        private static bool SameIssuer(OcspCertificateId id, OcspCertificateId ours) =>
            id.IssuerKeyHash.Span.SequenceEqual(ours.IssuerKeyHash.Span) && id.IssuerNameHash.Span.SequenceEqual(ours.IssuerNameHash.Span);
    }

    private sealed class Entry(Authority authority, long lastAsked, Uri responder)
    {
#pragma warning disable SA1401 // A field, for Volatile reads and writes without a lock.
        public long LastAsked = lastAsked;

        /// <summary>UTC ticks before which a request naming another responder does not switch to it.</summary>
        public long SwitchableAfter;
#pragma warning restore SA1401

        public Authority Authority { get; } = authority;

        /// <summary>The responder it is registered with; changed under the authority's lock.</summary>
        public Uri Responder { get; set; } = responder;
    }
}
