// A YARP reverse proxy terminating TLS for two host names (SNI, one certificate each), each stapled from its first
// handshake, in front of a local backend it starts itself. Demo mode: a throw-away PKI and a local OCSP responder.
using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Ocsp.Stapling;
using Ocsp.Stapling.AspNetCore;
using Ocsp.Stapling.Testing;
using Yarp.ReverseProxy.Configuration;

int port = 8445;
string directory = Path.Combine(Path.GetTempPath(), "ocsp-stapling-yarp-demo");
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--port" when i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out int p) && p <= 65535:
            port = p;
            i++;
            break;
        case "--dir" when i + 1 < args.Length:
            directory = args[++i];
            break;
        default:
            Console.Error.WriteLine($"Unknown or incomplete argument '{args[i]}'.\n\nUsage: Ocsp.Stapling.Samples.Yarp [--port N (default 8445; 0 = any free)] [--dir DIR]");
            return 2;
    }
}

// The backend: plain HTTP on a free loopback port, answering with the host name it was asked for.
WebApplicationBuilder backendBuilder = WebApplication.CreateSlimBuilder();
backendBuilder.Logging.ClearProviders();
backendBuilder.WebHost.UseUrls("http://127.0.0.1:0");
await using WebApplication backend = backendBuilder.Build();
backend.MapGet("/{**path}", (HttpRequest request) => $"backend answered for {request.Host} ({request.Path})\n");
await backend.StartAsync();
string backendAddress = backend.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();

// Demo PKI: two host names, each with its own certificate whose AIA points at the local responder.
Directory.CreateDirectory(directory);
await using TestOcspResponder responder = await TestOcspResponder.StartAsync();
using var pki = TestPki.Create(responder.Url);
responder.AddIssuer(pki.Intermediate);
string[] names = ["app.localhost", "api.localhost"];
Dictionary<string, X509Certificate2> certificates = names.ToDictionary(n => n, n => pki.IssueLeaf(n, responder.Url), StringComparer.OrdinalIgnoreCase);
string rootFile = Path.Combine(directory, "root.pem");
await File.WriteAllTextAsync(rootFile, TestPki.ToPem(pki.Root));

WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
#region stapling
builder.Services.AddOcspStapling(options => options.SharedStore.Directory = Path.Combine(directory, "cache"));
builder.Services.AddReverseProxy().LoadFromMemory(
    [new RouteConfig { RouteId = "all", ClusterId = "backend", Match = new RouteMatch { Path = "{**catch-all}" } }],
    [new ClusterConfig { ClusterId = "backend", Destinations = new Dictionary<string, DestinationConfig> { ["local"] = new() { Address = backendAddress } } }]);
builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port, listen =>
    listen.UseHttpsWithOcspStapling(
        (_, host) => host is not null && certificates.TryGetValue(host, out X509Certificate2? certificate) ? certificate : certificates[names[0]],
        options =>
        {
            options.ServerCertificateChain = [pki.Intermediate];
            options.SelectableCertificates.AddRange(certificates.Values.ToArray()); // stapled from their very first handshake
        })));
#endregion
await using WebApplication app = builder.Build();
app.MapReverseProxy();
await app.StartAsync();

// The provider fetches at start-up; wait until both certificates have a staple (or a failure to report).
OcspStaplingContexts contexts = app.Services.GetRequiredService<OcspStaplingContexts>();
OcspCertificateRegistry registry = app.Services.GetRequiredService<OcspCertificateRegistry>();
var answered = new SemaphoreSlim(0);
registry.StapleUpdated += (_, _) => answered.Release();
registry.StapleFailed += (_, _) => answered.Release();
DateTimeOffset deadline = TimeProvider.System.GetUtcNow().AddSeconds(30);
while (contexts.Certificates.Any(c => c.ServedStaple is null) && TimeProvider.System.GetUtcNow() < deadline && await answered.WaitAsync(TimeSpan.FromSeconds(30)))
{
}

int bound = new Uri(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First()).Port;
Console.WriteLine();
foreach (OcspStapledCertificate served in contexts.Certificates)
{
    Console.WriteLine(served.ServedStaple is { } staple
        ? $"OCSP staple for '{served.Certificate.Subject}' (serial {served.Certificate.SerialNumber}): {staple.Status}, nextUpdate {staple.NextUpdate:u}"
        : $"No OCSP staple yet for '{served.Certificate.Subject}' (serial {served.Certificate.SerialNumber}): see the log");
}

Console.WriteLine($"YARP with OCSP stapling on https://127.0.0.1:{bound}/ for {string.Join(" and ", names)}, forwarding to {backendAddress}");
Console.WriteLine("See each staple with:");
foreach (string name in names)
{
    Console.WriteLine($"  openssl s_client -connect 127.0.0.1:{bound} -servername {name} -status -CAfile {rootFile} </dev/null");
}

Console.WriteLine("Press Ctrl+C to stop.");
await app.WaitForShutdownAsync();
return 0;
