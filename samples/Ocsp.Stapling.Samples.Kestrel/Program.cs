// Kestrel with OCSP stapling from the first handshake. With no arguments: a demo PKI and a local OCSP responder.
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Authentication.Certificate;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration.Memory;
using Ocsp.Stapling;
using Ocsp.Stapling.AspNetCore;
using Ocsp.Stapling.Samples;
using OpenTelemetry.Metrics;

const int DefaultPort = 8443;
if (SampleArguments.ParseOrPrintUsage(args, "Ocsp.Stapling.Samples.Kestrel", "Kestrel", DefaultPort, out int exitCode) is not { } arguments)
{
    return exitCode;
}

await using DemoPki? demo = arguments.IsDemo ? await DemoPki.CreateAsync(arguments.DemoDirectory) : null;
if (arguments.IsDemo && demo is null)
{
    return 1; // the directory is in use: said on stderr
}

string? cacheDirectory = arguments.CacheDirectory ?? (demo is null ? null : Path.Combine(demo.Directory, "cache"));

WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
// The log is about certificates and staples, not requests: ASP.NET Core's Information lines per request are off by
// default (Logging__LogLevel__Microsoft.AspNetCore=Information brings them back). A start-up that fails (a port in
// use) is said in one line below instead of the host's Error with its stack trace (the trace is logged at Debug).
builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource
{
    InitialData = [new("Logging:LogLevel:Default", "Information"), new("Logging:LogLevel:Microsoft.AspNetCore", "Warning")],
});
bool started = false;
builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", level => level >= LogLevel.Information && (Volatile.Read(ref started) || level != LogLevel.Error));
arguments.UseStore(builder.Services.AddOcspStapling(options =>
{
    if (cacheDirectory is not null)
    {
        options.SharedStore.Directory = cacheDirectory; // the file-system cache (the default store): survives restarts
    }
}));
builder.Services.AddHealthChecks().AddOcspStapling();

// The library's meter ("Ocsp.Stapling") exported for Prometheus: ocsp_stapling_* series at /metrics.
builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter("Ocsp.Stapling").AddPrometheusExporter());
// --client-ca: mTLS. Kestrel asks for a client certificate and checks its chain against the CA file (issuer downloads
// off: a certificate of another CA is refused in the handshake, and nothing it names is fetched); certificate
// authentication then checks the revocation of the client certificate and of every CA of its chain from the OCSP cache
// in its asynchronous event (memory, the shared store, else the responder, waited for up to 5 s), so even a client's
// first request is decided by real answers: a revoked certificate (or CA) gets 403, and so does one without a valid
// answer under fail-closed.
X509Certificate2Collection clientAuthorities = [];
if (arguments.ClientCa is not null)
{
    try
    {
        clientAuthorities.ImportFromPemFile(arguments.ClientCa);
    }
    catch (Exception ex) when (ex is IOException or System.Security.Cryptography.CryptographicException or UnauthorizedAccessException)
    {
        Console.Error.WriteLine($"Cannot start: --client-ca {arguments.ClientCa}: {ex.Message}");
        return 1;
    }

    builder.Services.AddAuthentication(CertificateAuthenticationDefaults.AuthenticationScheme).AddCertificate(certificates =>
    {
        certificates.AllowedCertificateTypes = CertificateTypes.Chained;

        // The CA file (root and intermediates) as the handler's trust: it completes client chains without fetching anything.
        certificates.CheckOcspRevocation(new OcspClientCertificatePolicy { FailureMode = arguments.ClientRevocation }, clientAuthorities);
    });

    // Every endpoint needs an authenticated client (the status page and metrics are loopback-only besides).
    builder.Services.AddAuthorization(authorization => authorization.FallbackPolicy = new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());
}

void ClientCertificates(OcspStaplingHttpsOptions https)
{
    if (arguments.ClientCa is not null)
    {
        https.ClientCertificates.Mode = Microsoft.AspNetCore.Server.Kestrel.Https.ClientCertificateMode.RequireCertificate;
        https.ClientCertificates.Authorities.AddRange(clientAuthorities);
    }
}

builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(arguments.Listen, arguments.Port, listen =>
{
    if (arguments.Pfx is not null)
    {
        listen.UseHttpsWithOcspStapling(arguments.Pfx, arguments.Password, ClientCertificates);
    }
    else
    {
        listen.UseHttpsWithOcspStaplingFromPem(
            demo?.CertificateFile ?? arguments.Certificate!, demo?.KeyFile ?? arguments.Key!, demo?.ChainFile ?? arguments.Chain, ClientCertificates);
    }
}));

WebApplication app;
try
{
    app = builder.Build();
}
catch (Exception ex) when (ex is InvalidOperationException or FileNotFoundException)
{
    Console.Error.WriteLine($"Cannot start: {ex.Message}");
    return 1;
}

if (arguments.ClientCa is not null)
{
    app.UseAuthentication();
    app.UseAuthorization();
}

app.MapGet("/", (HttpContext context, OcspCertificateRegistry registry) =>
    (context.Connection.ClientCertificate is { } client ? $"Client certificate '{client.Subject}' accepted\n" : string.Empty)
    + string.Join('\n', registry.GetStates().Where(s => s.Certificate is not null).Select(Describe)) + "\n");
app.MapHealthChecks("/health", new HealthCheckOptions { ResponseWriter = OcspStaplingHealthResponseWriter.WriteAsync });

// Admin endpoints: the status page (HTML for a browser, JSON otherwise) and the metrics. A real deployment puts them
// behind authentication (.RequireAuthorization(...)); the sample answers loopback callers only.
app.MapOcspStaplingStatus("/ocsp-status"); // loopback callers only, unless authorization or an access policy says otherwise
app.MapPrometheusScrapingEndpoint("/metrics").AddEndpointFilter(LoopbackOnly);
try
{
    await app.StartAsync();
    Volatile.Write(ref started, true);
}
catch (Exception ex) when (ex is InvalidOperationException or IOException or SocketException)
{
#pragma warning disable CA1848 // once, on the way out
    app.Logger.LogDebug(ex, "Start-up failed");
#pragma warning restore CA1848
    Console.Error.WriteLine($"Cannot start: {ex.Message}");
    return 1;
}

OcspCertificateRegistry registry = app.Services.GetRequiredService<OcspCertificateRegistry>();
// Start-up has waited for the first answer (a staple, or a failure to report), up to StartupFetchTimeout.
OcspCertificateState state = registry.GetStates().First(s => s.Certificate is not null);
int port = new Uri(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First()).Port;
string host = arguments.Listen.Equals(IPAddress.Any) ? "127.0.0.1" : arguments.Listen.Equals(IPAddress.IPv6Any) ? "[::1]" : arguments.Listen.ToString();
if (arguments.Listen.AddressFamily == AddressFamily.InterNetworkV6 && !host.StartsWith('['))
{
    host = $"[{host}]";
}

string serverName = state.Certificate!.GetNameInfo(X509NameType.DnsName, forIssuer: false);
string caFile = demo is null ? string.Empty : $" -CAfile {demo.RootFile}";
Console.WriteLine();
Console.WriteLine(Describe(state));
// A certificate that names no OCSP responder is served, never stapled: the sample says so instead of its stapling lines.
Console.WriteLine(state.HasResponder
    ? $"HTTPS with OCSP stapling on https://{host}:{port}/ (health: https://{host}:{port}/health)"
    : $"HTTPS WITHOUT OCSP stapling on https://{host}:{port}/: the certificate names no OCSP responder (no OCSP URL in its AIA extension)");
Console.WriteLine($"Status page: https://{host}:{port}/ocsp-status   Prometheus metrics: https://{host}:{port}/metrics   (loopback callers only)");
Console.WriteLine($"Running on {RuntimeInformation.FrameworkDescription} ({RuntimeInformation.OSDescription})");
if (state.HasResponder)
{
    Console.WriteLine("See the staple with:");
    string clientFiles = demo is not null && arguments.ClientCa is not null ? $" -cert {demo.ClientCertificateFile} -key {demo.ClientKeyFile}" : string.Empty;
    Console.WriteLine($"  openssl s_client -connect {host}:{port} -servername {serverName} -status{caFile}{clientFiles} </dev/null");
}

if (arguments.ClientCa is not null)
{
    Console.WriteLine($"Client certificates required (--client-ca {arguments.ClientCa}), revocation checked by OCSP (or the CA's CRL where it has no responder) in certificate authentication, {(arguments.ClientRevocation == OcspClientFailureMode.FailOpen ? "fail-open" : "fail-closed")}");
    if (demo is not null)
    {
        Console.WriteLine($"  curl --cacert {demo.RootFile} --cert {demo.ClientCertificateFile} --key {demo.ClientKeyFile} https://localhost:{port}/   (a revoked one: {demo.RevokedClientCertificateFile}, {demo.RevokedClientKeyFile}: 403)");
    }
}

Console.WriteLine("Press Ctrl+C to stop.");
await app.WaitForShutdownAsync();
await app.DisposeAsync();
return 0;

static async ValueTask<object?> LoopbackOnly(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
    context.HttpContext.Connection.RemoteIpAddress is { } address && IPAddress.IsLoopback(address)
        ? await next(context)
        : Results.StatusCode(StatusCodes.Status403Forbidden);

static string Describe(OcspCertificateState state)
{
    string name = state.DisplayName;
    return state.Staple is { } staple
        ? string.Create(CultureInfo.InvariantCulture, $"OCSP staple for {name}: {staple.Status}, thisUpdate {staple.ThisUpdate:u}, nextUpdate {staple.NextUpdate:u}")
        : !state.HasResponder
            ? $"{name} has no OCSP responder URL: served without a staple"
            : $"No OCSP staple yet for {name}: {state.LastFailure?.ToString() ?? "fetching"}";
}
