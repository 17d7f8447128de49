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
}
