using System.Net;

namespace Ocsp.Stapling.Internal;

/// <summary>
/// The outbound proxy of <see cref="OcspOutboundProxyOptions"/> as the HTTP client uses it: the primary handler, and what
/// the fetcher needs to say that a failure was the proxy's (which proxy a responder is asked through, named without
/// credentials).
/// </summary>
internal sealed partial class OutboundProxy : IWebProxy
{
    private static readonly string[] ProxyVariables = ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"];
    private readonly Uri _address;
    private readonly string[] _bypass;

    private OutboundProxy(Uri address, IEnumerable<string> bypass, NetworkCredential? credentials)
    {
        _address = address;
        _bypass = [.. bypass.Select(b => b.Trim().ToLowerInvariant())];
        Credentials = credentials;
    }

    public ICredentials? Credentials { get; set; }

    /// <summary>The primary handler of the named client: no automatic redirects (the fetcher follows them), the proxy the options say.</summary>
    public static SocketsHttpHandler CreateHandler(OcspOutboundProxyOptions options)
    {
        var handler = new SocketsHttpHandler
        {
            // Redirects are followed by the fetcher and the proxy, within their allowed set (OcspFetchOptions.Redirects).
            AllowAutoRedirect = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        };
        if (Configured(options) is { } proxy)
        {
            handler.Proxy = proxy;
            handler.UseProxy = true;
        }
        else
        {
            handler.UseProxy = options.UseEnvironment; // Proxy null: HttpClient.DefaultProxy, the environment's
        }

        return handler;
    }

    /// <summary>The proxy <paramref name="responder"/> is asked through under <paramref name="options"/>, or <see langword="null"/> when it is asked directly.</summary>
    public static Uri? For(Uri responder, OcspOutboundProxyOptions options)
    {
        IWebProxy? proxy = Configured(options) ?? (options.UseEnvironment ? HttpClient.DefaultProxy : null);
        if (proxy is null || proxy.IsBypassed(responder))
        {
            return null;
        }

        Uri? through = proxy.GetProxy(responder);
        return through is null || through == responder ? null : through;
    }

    /// <summary>A proxy URL as logs may show it: scheme, host and port, never its credentials.</summary>
    public static string Describe(Uri proxy) =>
        proxy.IsAbsoluteUri ? $"{proxy.Scheme}://{proxy.Host}{(proxy.IsDefaultPort ? "" : ":" + proxy.Port)}" : "(not an absolute URL)";

    /// <summary>Removes credentials from any URL in <paramref name="message"/> (an exception's text may quote a proxy's URL).</summary>
    public static string Scrub(string message) => LogText.Quote(UserInfo().Replace(message, "://"));

    /// <summary>Where fetches go, for the start-up log: the proxy and where it comes from, or <see langword="null"/> for "directly".</summary>
    public static string? DescribeSetting(OcspOutboundProxyOptions options)
    {
        if (options.Address is { } address)
        {
            string bypass = options.Bypass.Count == 0 ? "" : $", not for {string.Join(", ", options.Bypass)}";
            return $"{Describe(address)} (OcspFetchOptions.Proxy{(address.UserInfo.Length > 0 ? ", with credentials" : "")}{bypass})";
        }

        if (!options.UseEnvironment)
        {
            return null;
        }

        string[] set = [.. ProxyVariables.Where(v => Variable(v) is not null)];
        return set.Length == 0 ? null : $"the environment's ({string.Join(", ", set)}{(Variable("NO_PROXY") is { } none ? "; NO_PROXY " + none : "")})";
    }

    public Uri? GetProxy(Uri destination) => IsBypassed(destination) ? null : _address;

    public bool IsBypassed(Uri host)
    {
        string name = host.IdnHost.Trim('[', ']').ToLowerInvariant();
        foreach (string entry in _bypass)
        {
            string domain = entry.TrimStart('.').Trim('[', ']');
            if (entry == "*" || (!entry.StartsWith('.') && name == domain) || name.EndsWith("." + domain, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>An environment variable as .NET's default proxy reads it (upper or lower case), when set and not empty.</summary>
    private static string? Variable(string name) =>
        (Environment.GetEnvironmentVariable(name) is { Length: > 0 } upper ? upper : null)
        ?? (Environment.GetEnvironmentVariable(name.ToLowerInvariant()) is { Length: > 0 } lower ? lower : null);

    private static OutboundProxy? Configured(OcspOutboundProxyOptions options)
    {
        if (options.Address is not { } address)
        {
            return null;
        }

        NetworkCredential? credentials = null;
        if (address.UserInfo.Length > 0)
        {
            string[] parts = address.UserInfo.Split(':', 2);
            credentials = new NetworkCredential(Uri.UnescapeDataString(parts[0]), parts.Length > 1 ? Uri.UnescapeDataString(parts[1]) : "");
        }

        return new OutboundProxy(new Uri(Describe(address)), options.Bypass, credentials);
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"://[^/@\s]+@", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex UserInfo();
}
