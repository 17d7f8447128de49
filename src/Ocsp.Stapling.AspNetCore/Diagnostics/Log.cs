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
    public const int ProxySummaryId = 140;
    public const int ProxyClientFaultId = 141;
    public const int ProxyUnknownId = 142;
    public const int ProxyLimitedId = 143;
    public const int ProxyCertificateIdEvictedId = 144;
    public const int ProxyBackendFailedId = 145;
    public const int ProxyBackendRecoveredId = 146;

    // Client certificates at the TLS level (the validator's own events are 160-162).
    public const int ClientCertificateAuthenticationFailedId = 164;

    // Kestrel's configuration endpoints (UseOcspStapling), category Ocsp.Stapling.AspNetCore.Kestrel.
    public const int ConfiguredEndpointStapledId = 130;
    public const int ConfiguredEndpointNotStapledId = 131;

    [LoggerMessage(ProxyServedId, LogLevel.Debug, "OCSP proxy answered for {Certificate} from the store: {Status}")]
    public static partial void ProxyServed(ILogger logger, string certificate, OcspCertificateStatus status);

    [LoggerMessage(ProxyForwardedId, LogLevel.Debug, "OCSP proxy forwarded an uncacheable request (nonce, several certificates, an unknown CA) to {Upstream}: {Length} bytes back")]
    public static partial void ProxyForwarded(ILogger logger, string upstream, int length);

    [LoggerMessage(ProxyRefusedId, LogLevel.Debug, "OCSP proxy refused a request (Host {Host}) from {Client} with 403: {Reason}")]
    public static partial void ProxyRefused(ILogger logger, string host, string client, string reason);

    [LoggerMessage(ProxyMalformedRequestId, LogLevel.Debug, "OCSP proxy answered malformedRequest: {Reason}")]
    public static partial void ProxyMalformedRequest(ILogger logger, string reason);

    [LoggerMessage(ProxyNoResponseId, LogLevel.Debug, "OCSP proxy has no valid response for {Certificate} and the responder gave none: answered tryLater")]
    public static partial void ProxyNoResponse(ILogger logger, string certificate);

    [LoggerMessage(ProxyUpstreamFailedId, LogLevel.Debug, "OCSP proxy got no usable answer from {Upstream} ({Reason}): answered tryLater")]
    public static partial void ProxyUpstreamFailed(ILogger logger, string upstream, string reason);

    [LoggerMessage(ProxyPrunedId, LogLevel.Information, "OCSP proxy: X-Prune-From-Cache for {CertificateId}: {Outcome}")]
    public static partial void ProxyPruned(ILogger logger, string certificateId, string outcome);

    [LoggerMessage(ProxyCertificateIdCachedId, LogLevel.Information, "OCSP proxy caches {CertificateId} of CA '{Authority}': a valid answer from {Source} (responder {Responder})")]
    public static partial void ProxyCertificateIdCached(ILogger logger, string certificateId, string authority, string responder, OcspStapleSource source);

    [LoggerMessage(
        ProxyCertificateIdCapReachedId,
        LogLevel.Information,
        "OCSP proxy caches {Cap} certificates of CA '{Authority}', its cap (Cache.MaxCertificatesPerAuthority): each further one evicts the one asked for least recently")]
    public static partial void ProxyCertificateIdCapReached(ILogger logger, string authority, int cap);

    [LoggerMessage(ProxyCertificateIdEvictedId, LogLevel.Debug, "OCSP proxy evicted {CertificateId} of CA '{Authority}' at its cap: forgotten, its shared-store entry left to expire")]
    public static partial void ProxyCertificateIdEvicted(ILogger logger, string certificateId, string authority);

    [LoggerMessage(ProxyBackendFailedId, LogLevel.Warning, "OCSP proxy: backend {Backend} of {PublicUrl} failed ({Reason}); it is tried after the others for {SkipTime}")]
    public static partial void ProxyBackendFailed(ILogger logger, string backend, string publicUrl, string reason, TimeSpan skipTime);

    [LoggerMessage(ProxyBackendRecoveredId, LogLevel.Information, "OCSP proxy: backend {Backend} of {PublicUrl} answers again")]
    public static partial void ProxyBackendRecovered(ILogger logger, string backend, string publicUrl);

    [LoggerMessage(ProxyCertificateIdsForgottenId, LogLevel.Information, "OCSP proxy forgot {Count} cached certificate(s) nobody asked for in {ForgetAfter}; their shared-store entries expire at their nextUpdate")]
    public static partial void ProxyCertificateIdsForgotten(ILogger logger, int count, TimeSpan forgetAfter);

    [LoggerMessage(ProxySummaryId, LogLevel.Information, "OCSP proxy, last {Interval}: {Summary}")]
    public static partial void ProxySummary(ILogger logger, TimeSpan interval, string summary);

    [LoggerMessage(ProxySummaryId, LogLevel.Warning, "OCSP proxy, last {Interval}: {Summary}")]
    public static partial void ProxySummaryWarning(ILogger logger, TimeSpan interval, string summary);

    [LoggerMessage(ProxyUnknownId, LogLevel.Debug, "OCSP proxy answered unknown for {CertificateId} (from {Source}): a serial its responder does not know, not cached as a certificate")]
    public static partial void ProxyUnknown(ILogger logger, string certificateId, string source);

    [LoggerMessage(ProxyLimitedId, LogLevel.Debug, "OCSP proxy answered tryLater to {Client} at once: the {Limit} limit towards {Upstream} is reached")]
    public static partial void ProxyLimited(ILogger logger, string client, string upstream, string limit);

    [LoggerMessage(ProxyClientFaultId, LogLevel.Debug, "OCSP proxy: the client's request broke off ({Fault}); answered {Status}")]
    public static partial void ProxyClientFault(ILogger logger, string fault, int status);

    [LoggerMessage(ConfiguredEndpointStapledId, LogLevel.Information, "Kestrel endpoint '{Endpoint}' from configuration staples OCSP for {Certificate} ({Files})")]
    public static partial void ConfiguredEndpointStapled(ILogger logger, string endpoint, string certificate, string files);

    [LoggerMessage(ConfiguredEndpointNotStapledId, LogLevel.Warning, "Kestrel endpoint '{Endpoint}' from configuration is served without OCSP stapling: {Reason}")]
    public static partial void ConfiguredEndpointNotStapled(ILogger logger, string endpoint, string reason);

    [LoggerMessage(ClientCertificateAuthenticationFailedId, LogLevel.Debug, "Certificate authentication failed: {Reason}")]
    public static partial void ClientCertificateAuthenticationFailed(ILogger logger, string reason);
}
