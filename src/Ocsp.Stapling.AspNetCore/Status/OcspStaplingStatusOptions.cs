using System.ComponentModel.DataAnnotations;
using System.Net;
using Microsoft.AspNetCore.Http;

namespace Ocsp.Stapling.AspNetCore;

/// <summary>Options of the status page (<c>MapOcspStaplingStatus</c>).</summary>
public sealed class OcspStaplingStatusOptions
{
    /// <summary>
    /// Gets or sets who may read the page: it shows every certificate the server holds, so by default only loopback
    /// callers (an operator on the machine, a local scraper). An endpoint you chain <c>RequireAuthorization(…)</c> to is
    /// decided by that policy instead (whoever passed it may read). Set <c>_ => true</c> to open it to everyone.
    /// </summary>
    /// <value>The default value allows loopback callers only.</value>
    [Required]
    public Func<HttpContext, bool> AccessPolicy { get; set; } = static context =>
        context.Connection.RemoteIpAddress is { } address && IPAddress.IsLoopback(address);
}
