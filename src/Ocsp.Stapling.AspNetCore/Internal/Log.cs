using Microsoft.Extensions.Logging;

namespace Ocsp.Stapling.AspNetCore.Internal;

/// <summary>Log messages of the Kestrel hook and health check; event ids 101+ (the core library uses 1–99).</summary>
internal static partial class Log
{
    public const int StaplingUnsupportedId = 101;
    public const int MustStapleWithoutStapleId = 102;
    public const int CertificateHookedId = 103;
    public const int IssuerNotFoundId = 104;
    public const int StapleAppliedId = 105;
    public const int StapleRemovedId = 106;
    public const int ProxyServedId = 110;
    public const int ProxyForwardedId = 111;
    public const int ProxyRefusedId = 112;
    public const int ProxyMalformedRequestId = 113;
    public const int ProxyNoResponseId = 114;
    public const int ProxyUpstreamFailedId = 115;
    public const int ProxyPrunedId = 116;

    [LoggerMessage(StaplingUnsupportedId, LogLevel.Warning, "OCSP stapling is OFF in Kestrel: {Reason}. TLS is served with the certificates as usual, without a staple.")]
    public static partial void StaplingUnsupported(ILogger logger, string reason);

    [LoggerMessage(MustStapleWithoutStapleId, LogLevel.Error, "Must-staple certificate {Certificate} has no valid OCSP staple: clients that enforce must-staple reject its handshakes until one is fetched")]
    public static partial void MustStapleWithoutStaple(ILogger logger, string certificate);

    [LoggerMessage(CertificateHookedId, LogLevel.Information, "Kestrel staples OCSP for {Certificate}: {StapleState}")]
    public static partial void CertificateHooked(ILogger logger, string certificate, string stapleState);

    [LoggerMessage(IssuerNotFoundId, LogLevel.Error, "Cannot staple OCSP for {Certificate}: {Message}. It is served without a staple.")]
    public static partial void IssuerNotFound(ILogger logger, string certificate, string message);

    [LoggerMessage(StapleAppliedId, LogLevel.Debug, "Kestrel staple for {Certificate} replaced: {Status}, thisUpdate {ThisUpdate:u}, nextUpdate {NextUpdate:u}")]
    public static partial void StapleApplied(ILogger logger, string certificate, OcspCertificateStatus status, DateTimeOffset thisUpdate, DateTimeOffset nextUpdate);

    [LoggerMessage(StapleRemovedId, LogLevel.Information, "Kestrel no longer staples {Certificate}: no valid, servable OCSP response")]
    public static partial void StapleRemoved(ILogger logger, string certificate);

    [LoggerMessage(ProxyServedId, LogLevel.Debug, "OCSP proxy answered for {Subject} (serial {Serial}) from the store: {Status}")]
    public static partial void ProxyServed(ILogger logger, string subject, string serial, OcspCertificateStatus status);

    [LoggerMessage(ProxyForwardedId, LogLevel.Debug, "OCSP proxy forwarded an uncacheable request (nonce or several certificates) to {Upstream}: {Length} bytes back")]
    public static partial void ProxyForwarded(ILogger logger, string upstream, int length);

    [LoggerMessage(ProxyRefusedId, LogLevel.Warning, "OCSP proxy refused a request (Host {Host}): {Reason}")]
    public static partial void ProxyRefused(ILogger logger, string host, string reason);

    [LoggerMessage(ProxyMalformedRequestId, LogLevel.Information, "OCSP proxy answered malformedRequest: {Reason}")]
    public static partial void ProxyMalformedRequest(ILogger logger, string reason);

    [LoggerMessage(ProxyNoResponseId, LogLevel.Warning, "OCSP proxy has no valid response for {Subject} (serial {Serial}) and the responder gave none: answered tryLater")]
    public static partial void ProxyNoResponse(ILogger logger, string subject, string serial);

    [LoggerMessage(ProxyUpstreamFailedId, LogLevel.Warning, "OCSP proxy could not forward to {Upstream} ({Reason}): answered tryLater")]
    public static partial void ProxyUpstreamFailed(ILogger logger, string upstream, string reason);

    [LoggerMessage(ProxyPrunedId, LogLevel.Information, "OCSP proxy pruned {CertificateId} from the cache on request")]
    public static partial void ProxyPruned(ILogger logger, string certificateId);
}
