using Microsoft.Extensions.Logging;

namespace Ocsp.Stapling.AspNetCore.Internal;

/// <summary>Log messages of the proxy (110–119, 140–149) and of Kestrel's configuration endpoints (130–139); the core library uses 1–99 and 101–129.</summary>
internal static partial class Log
{
    public const int ProxyServedId = 110;
    public const int ProxyForwardedId = 111;
    public const int ProxyRefusedId = 112;
    public const int ProxyMalformedRequestId = 113;
    public const int ProxyNoResponseId = 114;
    public const int ProxyUpstreamFailedId = 115;
    public const int ProxyPrunedId = 116;
    public const int ProxyCertificateIdCachedId = 117;
    public const int ProxyCertificateIdCapReachedId = 118;
    public const int ProxyCertificateIdsForgottenId = 119;

    // The proxy, continued.
    public const int ProxyForwardsRefusedId = 140;
    public const int ProxyClientFaultId = 141;

    // Kestrel's configuration endpoints (UseOcspStapling), category Ocsp.Stapling.AspNetCore.Kestrel.
    public const int ConfiguredEndpointStapledId = 130;
    public const int ConfiguredEndpointNotStapledId = 131;

    [LoggerMessage(ProxyServedId, LogLevel.Debug, "OCSP proxy answered for {Certificate} from the store: {Status}")]
    public static partial void ProxyServed(ILogger logger, string certificate, OcspCertificateStatus status);

    [LoggerMessage(ProxyForwardedId, LogLevel.Debug, "OCSP proxy forwarded an uncacheable request (nonce or several certificates) to {Upstream}: {Length} bytes back")]
    public static partial void ProxyForwarded(ILogger logger, string upstream, int length);

    [LoggerMessage(ProxyRefusedId, LogLevel.Warning, "OCSP proxy refused a request (Host {Host}): {Reason}")]
    public static partial void ProxyRefused(ILogger logger, string host, string reason);

    [LoggerMessage(ProxyMalformedRequestId, LogLevel.Information, "OCSP proxy answered malformedRequest: {Reason}")]
    public static partial void ProxyMalformedRequest(ILogger logger, string reason);

    [LoggerMessage(ProxyNoResponseId, LogLevel.Warning, "OCSP proxy has no valid response for {Certificate} and the responder gave none: answered tryLater")]
    public static partial void ProxyNoResponse(ILogger logger, string certificate);

    [LoggerMessage(ProxyUpstreamFailedId, LogLevel.Warning, "OCSP proxy could not forward to {Upstream} ({Reason}): answered tryLater")]
    public static partial void ProxyUpstreamFailed(ILogger logger, string upstream, string reason);

    [LoggerMessage(ProxyPrunedId, LogLevel.Information, "OCSP proxy: X-Prune-From-Cache for {CertificateId}: {Outcome}")]
    public static partial void ProxyPruned(ILogger logger, string certificateId, string outcome);

    [LoggerMessage(ProxyCertificateIdCachedId, LogLevel.Information, "OCSP proxy caches {CertificateId} of CA '{Authority}' from its first request; responder {Responder}")]
    public static partial void ProxyCertificateIdCached(ILogger logger, string certificateId, string authority, string responder);

    [LoggerMessage(
        ProxyCertificateIdCapReachedId,
        LogLevel.Warning,
        "OCSP proxy caches {Cap} certificates of CA '{Authority}', its cap (MaxCachedCertificatesPerAuthority): requests for further ones are forwarded uncached until some are forgotten")]
    public static partial void ProxyCertificateIdCapReached(ILogger logger, string authority, int cap);

    [LoggerMessage(ProxyCertificateIdsForgottenId, LogLevel.Information, "OCSP proxy forgot {Count} cached certificate(s) nobody asked for in {ForgetAfter}")]
    public static partial void ProxyCertificateIdsForgotten(ILogger logger, int count, TimeSpan forgetAfter);

    [LoggerMessage(
        ProxyForwardsRefusedId,
        LogLevel.Warning,
        "OCSP proxy refused {Count} forwarded request(s) to {Upstream} with tryLater: its {Limit} limit is reached (MaxConcurrentForwardsPerResponder {Concurrency}, MaxForwardsPerSecondPerResponder {Rate})")]
    public static partial void ProxyForwardsRefused(ILogger logger, string upstream, long count, string limit, int concurrency, double rate);

    [LoggerMessage(ProxyClientFaultId, LogLevel.Debug, "OCSP proxy: the client's request broke off ({Fault}); answered {Status}")]
    public static partial void ProxyClientFault(ILogger logger, string fault, int status);

    [LoggerMessage(ConfiguredEndpointStapledId, LogLevel.Information, "Kestrel endpoint '{Endpoint}' from configuration staples OCSP for {Certificate} ({Files})")]
    public static partial void ConfiguredEndpointStapled(ILogger logger, string endpoint, string certificate, string files);

    [LoggerMessage(ConfiguredEndpointNotStapledId, LogLevel.Warning, "Kestrel endpoint '{Endpoint}' from configuration is served without OCSP stapling: {Reason}")]
    public static partial void ConfiguredEndpointNotStapled(ILogger logger, string endpoint, string reason);
}
