using Microsoft.Extensions.Logging;

namespace Ocsp.Stapling.Internal;

/// <summary>Every log line of the provider, with stable event ids. Certificates are named by subject and serial only.</summary>
internal static partial class Log
{
    public const int StapleUpdatedId = 1;
    public const int FetchFailedId = 2;
    public const int CertificateRevokedId = 3;
    public const int StapleExpiredId = 4;
    public const int CacheReadFailedId = 5;
    public const int CacheWriteFailedId = 6;
    public const int NoResponderId = 7;
    public const int CertificateRegisteredId = 8;
    public const int StapleFromCacheId = 9;
    public const int SchedulerErrorId = 10;
    public const int CertificateUnregisteredId = 11;
    public const int CertificateFileErrorId = 12;
    public const int StaplePrunedId = 13;
    public const int SubscriberErrorId = 14;
    public const int CertificatesRegisteredId = 15;
    public const int PruneIgnoredId = 16;
    public const int ClockSteppedId = 17;
    public const int CacheFailedAgainId = 18;
    public const int CacheRecoveredId = 19;
    public const int SharedStoreInUseId = 20;
    public const int OutboundProxyInUseId = 21;
    public const int CacheEntryOversizedId = 22;

    // The TLS component (OcspStaplingContexts), category Ocsp.Stapling.Tls: 101+ as when it lived in the Kestrel package.
    public const int StaplingUnsupportedId = 101;
    public const int MustStapleWithoutStapleId = 102;
    public const int CertificateHookedId = 103;
    public const int IssuerNotFoundId = 104;
    public const int StapleAppliedId = 105;
    public const int StapleRemovedId = 106;
    public const int StapleRequiredAfterStartId = 107;
    public const int StartupPreparedId = 108;
    public const int FirstAnswerTimedOutId = 109;
    public const int StapleAtStartupId = 123;

    // Certificate files that rotate (OcspCertificateFileSource), category Ocsp.Stapling.Tls: 120+ (110-119 are the proxy's).
    public const int CertificateRotatedId = 120;
    public const int CertificateReloadFailedId = 121;
    public const int CertificateFilesWatchedId = 122;

    // Client-certificate revocation checks (OcspClientCertificateValidator), category Ocsp.Stapling.ClientCertificates: 160+.
    public const int ClientCertificateDecidedId = 160;
    public const int ClientCertificateEvictedId = 161;
    public const int ClientCertificatesForgottenId = 162;
    public const int ClientCertificateRefusedId = 163;
    public const int ClientCertificateRecheckedId = 165;
    public const int CrlHeldId = 166;
    public const int CrlRefusedId = 167;

    [LoggerMessage(
        StapleUpdatedId,
        LogLevel.Information,
        "OCSP update for {Certificate}: {Status} from {Source} {Responder} in {DurationMs} ms, thisUpdate {ThisUpdate:u}, nextUpdate {NextUpdate:u}; next refresh {NextRefresh:u}")]
    public static partial void StapleUpdated(
        ILogger logger, string certificate, OcspCertificateStatus status, OcspStapleSource source, string responder, long durationMs, DateTimeOffset thisUpdate, DateTimeOffset nextUpdate, DateTimeOffset nextRefresh);

    [LoggerMessage(
        FetchFailedId,
        LogLevel.Warning,
        "OCSP update for {Certificate}: failed ({Reason}, attempt {Failures}) from {Responder} in {DurationMs} ms: {Message}; retrying at {RetryAt:u}; current staple valid until {StapleValidUntil}")]
    public static partial void FetchFailed(
        ILogger logger, string certificate, string reason, int failures, string responder, long durationMs, string message, DateTimeOffset retryAt, string stapleValidUntil);

    [LoggerMessage(
        StapleUpdatedId,
        LogLevel.Debug,
        "OCSP update for {Certificate}: {Status} from {Source} {Responder} in {DurationMs} ms, thisUpdate {ThisUpdate:u}, nextUpdate {NextUpdate:u}; next refresh {NextRefresh:u}")]
    public static partial void CertificateIdUpdated(
        ILogger logger, string certificate, OcspCertificateStatus status, OcspStapleSource source, string responder, long durationMs, DateTimeOffset thisUpdate, DateTimeOffset nextUpdate, DateTimeOffset nextRefresh);

    [LoggerMessage(
        FetchFailedId,
        LogLevel.Debug,
        "OCSP update for {Certificate}: failed again ({Reason}, attempt {Failures}) from {Responder} in {DurationMs} ms: {Message}; retrying at {RetryAt:u}; current staple valid until {StapleValidUntil}")]
    public static partial void FetchFailedAgain(
        ILogger logger, string certificate, string reason, int failures, string responder, long durationMs, string message, DateTimeOffset retryAt, string stapleValidUntil);

    [LoggerMessage(CertificateRevokedId, LogLevel.Critical, "Certificate {Certificate} is REVOKED according to its OCSP responder (revoked {RevocationTime:u}, reason {Reason}). Replace it.")]
    public static partial void CertificateRevoked(ILogger logger, string certificate, DateTimeOffset? revocationTime, string reason);

    [LoggerMessage(StapleExpiredId, LogLevel.Error, "OCSP staple for {Certificate} expired at {NextUpdate:u} with no valid replacement; handshakes now carry no staple")]
    public static partial void StapleExpired(ILogger logger, string certificate, DateTimeOffset nextUpdate);

    [LoggerMessage(CacheReadFailedId, LogLevel.Warning, "Shared OCSP cache read for {Certificate} failed; continuing without it (further failures of this kind are logged at Debug until reads work again)")]
    public static partial void CacheReadFailed(ILogger logger, string certificate, Exception exception);

    [LoggerMessage(CacheWriteFailedId, LogLevel.Warning, "Shared OCSP cache write for {Certificate} failed; the staple is served from memory (further failures of this kind are logged at Debug until writes work again)")]
    public static partial void CacheWriteFailed(ILogger logger, string certificate, Exception exception);

    [LoggerMessage(CacheReadFailedId, LogLevel.Warning, "Shared OCSP cache {Operation} for {Certificate} took longer than its bound ({Timeout}); continuing without it (further time-outs are logged at Debug until it answers in time again)")]
    public static partial void CacheTimedOut(ILogger logger, string operation, string certificate, TimeSpan timeout);

    [LoggerMessage(CacheFailedAgainId, LogLevel.Debug, "Shared OCSP cache {Operation} for {Certificate} failed again: {Message}")]
    public static partial void CacheFailedAgain(ILogger logger, string operation, string certificate, string message);

    [LoggerMessage(CacheEntryOversizedId, LogLevel.Warning, "Shared OCSP cache entry for {Certificate} refused: {Message} Someone wrote it who should not be able to write the store (later ones are logged at Debug, counted by ocsp.stapling.cache.oversized)")]
    public static partial void CacheEntryOversized(ILogger logger, string certificate, string message);

    [LoggerMessage(CacheRecoveredId, LogLevel.Information, "Shared OCSP cache {Operation}s work again")]
    public static partial void CacheRecovered(ILogger logger, string operation);

    [LoggerMessage(EventId = NoResponderId, Message = "Certificate {Certificate} has no usable OCSP responder ({Reason}); it will be served without a staple")]
    public static partial void NoResponder(ILogger logger, LogLevel level, string certificate, string reason);

    [LoggerMessage(CertificateRegisteredId, LogLevel.Information, "Keeping OCSP staple for {Certificate} (must-staple: {MustStaple}, responders: {Responders})")]
    public static partial void CertificateRegistered(ILogger logger, string certificate, bool mustStaple, string responders);

    [LoggerMessage(CertificateRegisteredId, LogLevel.Debug, "Keeping OCSP staple for {Certificate} (must-staple: {MustStaple}, responders: {Responders})")]
    public static partial void CertificateRegisteredInBulk(ILogger logger, string certificate, bool mustStaple, string responders);

    [LoggerMessage(
        CertificatesRegisteredId,
        LogLevel.Information,
        "Keeping OCSP staples for {Count} more certificate(s) ({AlreadyRegistered} already registered; {MustStaple} must-staple; {WithoutResponder} without a usable responder, served without a staple)")]
    public static partial void CertificatesRegistered(ILogger logger, int count, int alreadyRegistered, int mustStaple, int withoutResponder);

    [LoggerMessage(StapleFromCacheId, LogLevel.Debug, "OCSP staple for {Certificate} taken from the shared cache (thisUpdate {ThisUpdate:u})")]
    public static partial void StapleFromCache(ILogger logger, string certificate, DateTimeOffset thisUpdate);

    [LoggerMessage(SchedulerErrorId, LogLevel.Error, "OCSP refresh scheduler error")]
    public static partial void SchedulerError(ILogger logger, Exception exception);

    [LoggerMessage(CertificateUnregisteredId, LogLevel.Information, "No longer stapling {Certificate}")]
    public static partial void CertificateUnregistered(ILogger logger, string certificate);

    [LoggerMessage(CertificateUnregisteredId, LogLevel.Debug, "No longer keeping an OCSP response for {Certificate}{Deleted}")]
    public static partial void CertificateIdUnregistered(ILogger logger, string certificate, string deleted);

    [LoggerMessage(CertificateRegisteredId, LogLevel.Debug, "Keeping an OCSP response for {Certificate} (responder {Responder}){Answer}")]
    public static partial void CertificateIdRegistered(ILogger logger, string certificate, string responder, string answer);

    [LoggerMessage(CertificateFileErrorId, LogLevel.Error, "Cannot load certificate file {Path}: {Message}")]
    public static partial void CertificateFileError(ILogger logger, string path, string message);

    [LoggerMessage(StaplePrunedId, LogLevel.Information, "OCSP staple for {Certificate} pruned on request: refetching; the held response is served until a valid newer one arrives")]
    public static partial void StaplePruned(ILogger logger, string certificate);

    [LoggerMessage(
        ClockSteppedId,
        LogLevel.Warning,
        "The system clock stepped by {Step} (now {Now:u}): staple expiry and the refresh schedule were re-checked against it; {Expired} staple(s) past their nextUpdate are no longer served")]
    public static partial void ClockStepped(ILogger logger, TimeSpan step, DateTimeOffset now, int expired);

    [LoggerMessage(PruneIgnoredId, LogLevel.Information, "OCSP prune of {Certificate} ignored: {Reason}. The held response is still served")]
    public static partial void PruneIgnored(ILogger logger, string certificate, string reason);

    [LoggerMessage(SubscriberErrorId, LogLevel.Error, "A subscriber to an OCSP stapling event ({EventArgs}) threw; the other subscribers and the scheduler go on")]
    public static partial void SubscriberError(ILogger logger, string eventArgs, Exception exception);

    [LoggerMessage(StaplingUnsupportedId, LogLevel.Warning, "OCSP stapling is OFF: {Reason}. TLS is served with the certificates as usual, without a staple.")]
    public static partial void StaplingUnsupported(ILogger logger, string reason);

    [LoggerMessage(MustStapleWithoutStapleId, LogLevel.Error, "Must-staple certificate {Certificate} has no valid OCSP staple: clients that enforce must-staple reject its handshakes until one is fetched")]
    public static partial void MustStapleWithoutStaple(ILogger logger, string certificate);

    [LoggerMessage(CertificateHookedId, LogLevel.Debug, "TLS context hooked for {Certificate}: {StapleState}")]
    public static partial void CertificateHooked(ILogger logger, string certificate, string stapleState);

    [LoggerMessage(IssuerNotFoundId, LogLevel.Error, "Cannot staple OCSP for {Certificate}: {Message}")]
    public static partial void IssuerNotFound(ILogger logger, string certificate, string message);

    [LoggerMessage(StapleAppliedId, LogLevel.Debug, "TLS staple for {Certificate} replaced: {Status}, thisUpdate {ThisUpdate:u}, nextUpdate {NextUpdate:u}")]
    public static partial void StapleApplied(ILogger logger, string certificate, OcspCertificateStatus status, DateTimeOffset thisUpdate, DateTimeOffset nextUpdate);

    [LoggerMessage(StapleRemovedId, LogLevel.Information, "TLS no longer staples {Certificate}: no valid, servable OCSP response")]
    public static partial void StapleRemoved(ILogger logger, string certificate);

    [LoggerMessage(StapleRequiredAfterStartId, LogLevel.Warning, "A staple was required at start-up for {Certificate}, but start-up is over: it is served as soon as one is fetched")]
    public static partial void StapleRequiredAfterStart(ILogger logger, string certificate);

    [LoggerMessage(StartupPreparedId, LogLevel.Information, "OCSP stapling ready before the first handshake: {Stapled} of {Count} certificate(s) stapled ({Waited} waited for a first answer, bound {Timeout})")]
    public static partial void StartupPrepared(ILogger logger, int stapled, int count, int waited, TimeSpan timeout);

    [LoggerMessage(StapleAtStartupId, LogLevel.Information, "OCSP staple for {Certificate} at start-up: {Outcome}")]
    public static partial void StapleAtStartup(ILogger logger, string certificate, string outcome);

    [LoggerMessage(OutboundProxyInUseId, LogLevel.Information, "OCSP responders are asked through the outbound proxy {Proxy}")]
    public static partial void OutboundProxyInUse(ILogger logger, string proxy);

    [LoggerMessage(SharedStoreInUseId, LogLevel.Information, "OCSP staples are kept in memory and in the shared store: {Store}")]
    public static partial void SharedStoreInUse(ILogger logger, string store);

    [LoggerMessage(SharedStoreInUseId, LogLevel.Information, "OCSP staples are kept in memory only (UseMemoryOnly): after a restart, certificates are stapled once their responder answers")]
    public static partial void MemoryOnly(ILogger logger);

    [LoggerMessage(FirstAnswerTimedOutId, LogLevel.Warning, "No OCSP answer for {Certificate} within {Timeout}: serving it without a staple until one is fetched (handshakes never wait for the responder)")]
    public static partial void FirstAnswerTimedOut(ILogger logger, string certificate, TimeSpan timeout);

    [LoggerMessage(CertificateRotatedId, LogLevel.Information, "Certificate files {Files} changed: now serving {Certificate} ({StapleState}) instead of {Previous}")]
    public static partial void CertificateRotated(ILogger logger, string files, string certificate, string stapleState, string previous);

    [LoggerMessage(CertificateReloadFailedId, LogLevel.Warning, "Certificate files {Files} changed but cannot be used; still serving {Certificate}: {Message}")]
    public static partial void CertificateReloadFailed(ILogger logger, string files, string certificate, string message);

    [LoggerMessage(CertificateFilesWatchedId, LogLevel.Debug, "Watching certificate files {Files} for {Certificate} (reload delay {Delay}, poll {Poll})")]
    public static partial void CertificateFilesWatched(ILogger logger, string files, string certificate, TimeSpan delay, TimeSpan poll);

    /// <summary>A decision, once per certificate, reason and outcome: Information when accepted as good, else Warning.</summary>
    [LoggerMessage(EventId = ClientCertificateDecidedId, Message = "{Decision}")]
    public static partial void ClientCertificateDecided(ILogger logger, LogLevel level, string decision);

    [LoggerMessage(CrlHeldId, LogLevel.Information, "CRL of {Issuer} from {Url} held: number {Number}, thisUpdate {ThisUpdate:u}, nextUpdate {NextUpdate:u}, {Entries} entries ({Origin})")]
    public static partial void CrlHeld(ILogger logger, string issuer, Uri url, string number, DateTimeOffset thisUpdate, DateTimeOffset? nextUpdate, int entries, string origin);

    /// <summary>A CRL refused or not fetched, once per CA and reason as a Warning (its repeats at Debug); the CRL held, if any, keeps deciding.</summary>
    [LoggerMessage(EventId = CrlRefusedId, Message = "No new CRL of {Issuer} from {Url}: {Reason}; {Held}")]
    public static partial void CrlRefused(ILogger logger, LogLevel level, string issuer, string url, string reason, string held);

    [LoggerMessage(ClientCertificateEvictedId, LogLevel.Information, "Client certificate {Certificate} forgotten to stay within {Max} kept (checked least recently)")]
    public static partial void ClientCertificateEvicted(ILogger logger, string certificate, int max);

    [LoggerMessage(ClientCertificatesForgottenId, LogLevel.Information, "{Count} client certificate(s) forgotten: not checked within {IdleTime}")]
    public static partial void ClientCertificatesForgotten(ILogger logger, int count, TimeSpan idleTime);

    [LoggerMessage(ClientCertificateRefusedId, LogLevel.Warning, "Client certificate refused: {Reason}{LeftOut}")]
    public static partial void ClientCertificateRefused(ILogger logger, string reason, string leftOut);

    [LoggerMessage(ClientCertificateRefusedId, LogLevel.Debug, "Client certificate refused: {Reason}")]
    public static partial void ClientCertificateRefusedAgain(ILogger logger, string reason);

    [LoggerMessage(ClientCertificateRecheckedId, LogLevel.Information, "Client certificate {Certificate} rechecked on request: {Answer}")]
    public static partial void ClientCertificateRechecked(ILogger logger, string certificate, string answer);
}
