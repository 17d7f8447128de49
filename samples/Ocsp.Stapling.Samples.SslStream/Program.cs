// A TLS server on a raw TcpListener + SslStream (no ASP.NET Core) with OCSP stapling from the first handshake: it answers
// one line per connection. With no arguments: a demo PKI and a local OCSP responder, as the Kestrel sample.
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Ocsp.Stapling;
using Ocsp.Stapling.Samples;

const int DefaultPort = 8444;
if (SampleArguments.ParseOrPrintUsage(args, "Ocsp.Stapling.Samples.SslStream", "A raw SslStream server", DefaultPort, out int exitCode) is not { } arguments)
{
    return exitCode;
}

await using DemoPki? demo = arguments.IsDemo ? await DemoPki.CreateAsync(arguments.DemoDirectory) : null;
if (arguments.IsDemo && demo is null)
{
    return 1; // the directory is in use: said on stderr
}


// The provider (fetching, validation, shared cache, refresh scheduler) runs in a generic host.
HostApplicationBuilder builder = Host.CreateApplicationBuilder();
string? cacheDirectory = arguments.CacheDirectory ?? (demo is null ? null : Path.Combine(demo.Directory, "cache"));
arguments.UseStore(builder.Services.AddOcspStapling(options =>
{
    if (cacheDirectory is not null)
    {
        options.SharedStore.Directory = cacheDirectory; // the file-system cache (the default store): survives restarts
    }
}));
using IHost host = builder.Build();
await host.StartAsync();

// The certificate files, watched: a renewal (certbot, …) is served once it has its staple, without a restart. Each
// certificate gets one hooked context, carrying the shared cache's staple, else the responder's first answer.
OcspStaplingContexts stapling = host.Services.GetRequiredService<OcspStaplingContexts>();
OcspCertificateFileSource files;
try
{
    files = arguments.Pfx is not null
        ? stapling.WatchPfxFile(arguments.Pfx, arguments.Password)
        : stapling.WatchPemFiles(demo?.CertificateFile ?? arguments.Certificate!, demo?.KeyFile ?? arguments.Key!, demo?.ChainFile ?? arguments.Chain);
}
catch (Exception ex) when (ex is InvalidOperationException or FileNotFoundException)
{
    Console.Error.WriteLine($"Cannot start: {ex.Message}");
    return 1;
}

OcspStapledCertificate served = files.Current;
X509Certificate2 certificate = served.Certificate;
if (!served.IsStapling)
{
    Console.Error.WriteLine($"Cannot staple OCSP for '{certificate.Subject}' (serial {certificate.SerialNumber}): {served.NotStaplingReason} (the log says why)");
    return 1;
}

OcspStaple? staple = await stapling.PrepareAsync(served);
var listener = new TcpListener(arguments.Listen, arguments.Port);
try
{
    listener.Start();
}
catch (SocketException ex)
{
    Console.Error.WriteLine($"Cannot start: {ex.Message}");
    return 1;
}

// The host's console lifetime turns Ctrl+C and SIGTERM into ApplicationStopping: the accept loop ends with it.
CancellationToken stop = host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;

// --client-ca: mTLS. The chain is checked against the CA file (issuer downloads off, in the TLS layer's own build too),
// then the revocation of every certificate below the root from the OCSP cache: from memory or the shared store; a client
// certificate never seen is decided by the failure mode while its responder is asked (TLS callbacks are synchronous),
// so with fail-closed its next connection is decided by the answer.
Action<SslServerAuthenticationOptions>? clientCheck = null;
if (arguments.ClientCa is not null)
{
    var authorities = new X509Certificate2Collection();
    try
    {
        authorities.ImportFromPemFile(arguments.ClientCa);
    }
    catch (Exception ex) when (ex is IOException or System.Security.Cryptography.CryptographicException or UnauthorizedAccessException)
    {
        Console.Error.WriteLine($"Cannot start: --client-ca {arguments.ClientCa}: {ex.Message}");
        return 1;
    }

    OcspClientCertificateValidator validator = host.Services.GetRequiredService<OcspClientCertificateValidator>();
    var policy = new OcspClientCertificatePolicy { FailureMode = arguments.ClientRevocation };
    clientCheck = options => OcspClientCertificateValidation.RequireClientCertificate(
        options, validator, policy, authorities, decision => Console.Error.WriteLine($"Client certificate refused ({decision.Reason}): {decision.Message}"));
}

Task server = ServeAsync(listener, files, clientCheck, stop);

int port = ((IPEndPoint)listener.LocalEndpoint).Port;
string address = arguments.Listen.Equals(IPAddress.Any) ? "127.0.0.1" : arguments.Listen.Equals(IPAddress.IPv6Any) ? "[::1]" : arguments.Listen.ToString();
if (arguments.Listen.AddressFamily == AddressFamily.InterNetworkV6 && !address.StartsWith('['))
{
    address = $"[{address}]";
}

Console.WriteLine();
Console.WriteLine(staple is null
    ? $"No OCSP staple yet for '{certificate.Subject}' (serial {certificate.SerialNumber}): see the log for why; handshakes are served without one until it comes"
    : $"OCSP staple for '{certificate.Subject}' (serial {certificate.SerialNumber}): {staple.Status}, thisUpdate {staple.ThisUpdate:u}, nextUpdate {staple.NextUpdate:u}");
Console.WriteLine($"TLS with OCSP stapling on {address}:{port} (SslStream, one line per connection)");
Console.WriteLine($"Running on {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription} ({System.Runtime.InteropServices.RuntimeInformation.OSDescription})");
Console.WriteLine("See the staple with:");
string caFile = demo is null ? string.Empty : $" -CAfile {demo.RootFile}";
string clientFiles = demo is not null && clientCheck is not null ? $" -cert {demo.ClientCertificateFile} -key {demo.ClientKeyFile}" : string.Empty;
Console.WriteLine($"  openssl s_client -connect {address}:{port} -servername {certificate.GetNameInfo(X509NameType.DnsName, forIssuer: false)} -status{caFile}{clientFiles} </dev/null");
if (clientCheck is not null)
{
    Console.WriteLine($"Client certificates required (--client-ca {arguments.ClientCa}), revocation checked by OCSP (or the CA's CRL where it has no responder), {(arguments.ClientRevocation == OcspClientFailureMode.FailOpen ? "fail-open" : "fail-closed")}");
}

Console.WriteLine("Press Ctrl+C to stop.");
await server;
listener.Stop();
await host.StopAsync();
return 0;

// Accepts connections until stopped; each gets a TLS handshake with the current certificate's stapled context and one line.
static async Task ServeAsync(TcpListener listener, OcspCertificateFileSource files, Action<SslServerAuthenticationOptions>? clientCheck, CancellationToken stop)
{
    while (!stop.IsCancellationRequested)
    {
        TcpClient client;
        try
        {
            client = await listener.AcceptTcpClientAsync(stop);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            using (client)
            {
                try
                {
                    await using var tls = new SslStream(client.GetStream());
                    using var handshake = CancellationTokenSource.CreateLinkedTokenSource(stop);
                    handshake.CancelAfter(TimeSpan.FromSeconds(10));
                    var options = new SslServerAuthenticationOptions { ServerCertificateContext = files.Context };
                    clientCheck?.Invoke(options);
                    await tls.AuthenticateAsServerAsync(options, handshake.Token);
                    string who = tls.RemoteCertificate is { } remote ? $", client '{remote.Subject}'" : string.Empty;
                    await tls.WriteAsync(Encoding.ASCII.GetBytes($"hello over {tls.SslProtocol}, OCSP stapled{who}\n"), stop);
                    await tls.ShutdownAsync();
                }
                catch (Exception ex) when (ex is IOException or System.Security.Authentication.AuthenticationException or OperationCanceledException)
                {
                    // A client that hung up or never finished its handshake: nothing to answer.
                }
            }
        }, CancellationToken.None);
    }
}
