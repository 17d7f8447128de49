using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Ocsp.Stapling.AspNetCore.Internal;

/// <summary>
/// The responders the proxy fronts under their public names (<see cref="OcspProxyOptions.Backends"/>): which one a
/// request names (its <c>Host</c> and path), and the order in which a front's backends are tried now.
/// </summary>
internal sealed class BackendFronts
{
    private readonly BackendFront[] _fronts;

    public BackendFronts(OcspProxyOptions options, TimeProvider time, ILogger logger) =>
        _fronts = [.. options.Backends.Responders.Select(b => new BackendFront(b, options.Backends.FailedBackendSkipTime, time, logger))];

    /// <summary>Gets a value indicating whether any responder is fronted.</summary>
    public bool Any => _fronts.Length > 0;

    /// <summary>The host, port and path of a URL, for comparing public URLs.</summary>
    public static string Key(Uri url) => $"{url.Host}:{url.Port}{url.AbsolutePath.TrimEnd('/')}".ToLowerInvariant();

    /// <summary>Returns whether two URLs name the same host and port.</summary>
    public static bool SameAuthority(Uri a, Uri b) => string.Equals(a.Host, b.Host, StringComparison.OrdinalIgnoreCase) && a.Port == b.Port;

    /// <summary>
    /// The front whose public host <paramref name="host"/> names (a port, when given, must be the public URL's: without
    /// one, any, since a TLS terminator or port mapping may stand before the proxy), or <see langword="null"/>.
    /// <paramref name="pathMatches"/> says whether <paramref name="path"/> (the raw path) lies under its public path.
    /// </summary>
    public BackendFront? Find(HostString host, string path, out bool pathMatches)
    {
        BackendFront? hostOnly = null;
        pathMatches = false;
        if (host.Host is not { Length: > 0 } name)
        {
            return null;
        }

        foreach (BackendFront front in _fronts)
        {
            if (!string.Equals(front.PublicUrl.Host, name, StringComparison.OrdinalIgnoreCase) || (host.Port is { } port && port != front.PublicUrl.Port))
            {
                continue;
            }

            if (front.Covers(path))
            {
                pathMatches = true;
                return front;
            }

            hostOnly ??= front;
        }

        return hostOnly;
    }
}

/// <summary>
/// One fronted responder: its public URL and its backends, each with when it failed last. Backends are tried in their
/// order, those that failed within <see cref="OcspProxyBackendOptions.FailedBackendSkipTime"/> after the others (the one
/// failing longest first, as its skip time ends first). An outage is logged once when it starts (however often the
/// backend fails again in it) and once when the backend answers again.
/// </summary>
internal sealed class BackendFront
{
    private readonly Uri[] _backends;
    private readonly long[] _failedUntil; // UTC ticks; 0 = fine
    private readonly long _skipTicks;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _path;

    public BackendFront(OcspProxyBackend options, TimeSpan skipTime, TimeProvider time, ILogger logger)
    {
        PublicUrl = options.PublicUrl;
        _backends = [.. options.Backends];
        _failedUntil = new long[_backends.Length];
        _skipTicks = skipTime.Ticks;
        _time = time;
        _logger = logger;
        _path = options.PublicUrl.AbsolutePath.TrimEnd('/');
    }

    public Uri PublicUrl { get; }

    /// <summary>Gets the length of the public path (what precedes the encoded request of a GET).</summary>
    public int PathLength => _path.Length;

    /// <summary>Returns whether a raw request path lies under the public path.</summary>
    public bool Covers(string path) =>
        _path.Length == 0
        || (path.StartsWith(_path, StringComparison.OrdinalIgnoreCase) && (path.Length == _path.Length || path[_path.Length] == '/'));

    /// <summary>The backends in the order to try them now; the configured array itself while none is being skipped.</summary>
    public IReadOnlyList<Uri> Ordered()
    {
        long now = _time.GetUtcNow().UtcTicks;
        bool anySkipped = false;
        for (int i = 0; i < _failedUntil.Length; i++)
        {
            anySkipped |= Volatile.Read(ref _failedUntil[i]) > now;
        }

        if (!anySkipped)
        {
            return _backends;
        }

        return
        [
            .. _backends.Where((_, i) => Volatile.Read(ref _failedUntil[i]) <= now),
            .. _backends.Select((b, i) => (Backend: b, Until: Volatile.Read(ref _failedUntil[i]))).Where(p => p.Until > now).OrderBy(p => p.Until).Select(p => p.Backend),
        ];
    }

    /// <summary>Marks <paramref name="backend"/> as failing: skipped for the skip time (logged when it was fine before).</summary>
    public void Failed(Uri backend, string reason)
    {
        int i = Array.IndexOf(_backends, backend);
        if (i < 0)
        {
            return;
        }

        long until = (_time.GetUtcNow() + TimeSpan.FromTicks(_skipTicks)).UtcTicks;
        if (Interlocked.Exchange(ref _failedUntil[i], until) == 0)
        {
            Log.ProxyBackendFailed(_logger, backend.ToString(), PublicUrl.ToString(), reason, TimeSpan.FromTicks(_skipTicks));
        }
    }

    /// <summary>Marks <paramref name="backend"/> as answering (logged when it had failed).</summary>
    public void Answered(Uri backend)
    {
        int i = Array.IndexOf(_backends, backend);
        if (i >= 0 && Volatile.Read(ref _failedUntil[i]) != 0 && Interlocked.Exchange(ref _failedUntil[i], 0) != 0)
        {
            Log.ProxyBackendRecovered(_logger, backend.ToString(), PublicUrl.ToString());
        }
    }

    /// <summary>After an answer from <paramref name="answeredBy"/> to a request tried in <paramref name="order"/>: those tried before it failed, it answered.</summary>
    public void Record(IReadOnlyList<Uri> order, Uri? answeredBy, string failure)
    {
        foreach (Uri backend in order)
        {
            if (backend.Equals(answeredBy))
            {
                Answered(backend);
                return;
            }

            Failed(backend, failure);
        }
    }
}
