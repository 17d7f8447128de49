using System.Net;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;

namespace Ocsp.Stapling.AspNetCore.Internal;

/// <summary>
/// Who may see what the server holds (the status page, the health writer's per-certificate document): loopback callers,
/// whoever passed an authorization policy the application put on the endpoint, or whom the application's own policy allows.
/// </summary>
internal static class AdminAccess
{
    public static bool IsLoopback(HttpContext context) =>
        context.Connection.RemoteIpAddress is { } address && IPAddress.IsLoopback(address);

    /// <summary>Whether the endpoint carries authorization metadata (<c>RequireAuthorization</c>): the authorization middleware has then already admitted the caller.</summary>
    public static bool IsAuthorizedEndpoint(HttpContext context) =>
        context.GetEndpoint()?.Metadata.GetMetadata<IAuthorizeData>() is not null;

    public static bool IsAllowed(HttpContext context, Func<HttpContext, bool> policy) => IsAuthorizedEndpoint(context) || policy(context);
}
