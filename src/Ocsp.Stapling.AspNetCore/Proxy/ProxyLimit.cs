namespace Ocsp.Stapling.AspNetCore.Internal;

/// <summary>The limit that refused a request on its way upstream (answered tryLater at once, nobody asked).</summary>
internal enum ProxyLimit
{
    /// <summary>The client's requests under way (<see cref="OcspProxyLimitOptions.MaxConcurrentForwardsPerClient"/>).</summary>
    ClientConcurrency,

    /// <summary>The client's requests a second (<see cref="OcspProxyLimitOptions.MaxForwardsPerSecondPerClient"/>).</summary>
    ClientRate,

    /// <summary>The responder's requests under way (<see cref="OcspProxyLimitOptions.MaxConcurrentForwardsPerResponder"/>).</summary>
    Concurrency,

    /// <summary>The responder's requests a second (<see cref="OcspProxyLimitOptions.MaxForwardsPerSecondPerResponder"/>).</summary>
    Rate,
}

/// <summary>The words of a <see cref="ProxyLimit"/>: the <c>limit</c> tag of <c>ocsp.stapling.proxy.forwards_refused</c> and of event 143.</summary>
internal static class ProxyLimits
{
    public static string Tag(this ProxyLimit limit) => limit switch
    {
        ProxyLimit.ClientConcurrency => "client_concurrency",
        ProxyLimit.ClientRate => "client_rate",
        ProxyLimit.Concurrency => "concurrency",
        _ => "rate",
    };

    /// <summary>Whether the client's own limit refused it (the summary counts those apart).</summary>
    public static bool IsClients(this ProxyLimit limit) => limit is ProxyLimit.ClientConcurrency or ProxyLimit.ClientRate;
}
