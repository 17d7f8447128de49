// Usage: PackageConsumer <port> <certificate.pem> <key.pem> <chain.pem> <root.pem>
// Serves HTTPS on 127.0.0.1:<port> with the certificate stapled, and prints the openssl command once a staple is in.
using System.Net;
using Ocsp.Stapling;

if (args.Length != 5)
{
    Console.Error.WriteLine("usage: PackageConsumer <port> <certificate.pem> <key.pem> <chain.pem> <root.pem>");
    return 64;
}

int port = int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture);
WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
builder.Services.AddOcspStapling().UseMemoryOnly();
builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, l => l.UseHttpsWithOcspStaplingFromPem(args[1], args[2], args[3])));
await using WebApplication app = builder.Build();
app.MapGet("/", () => "stapled by the Ocsp.Stapling packages\n");
OcspCertificateRegistry registry = app.Services.GetRequiredService<OcspCertificateRegistry>();
var stapled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
registry.StapleUpdated += (_, e) => { if (e.IsServed) { stapled.TrySetResult(); } };
await app.StartAsync();
if (registry.GetStates().Any(s => s.Staple is not null))
{
    stapled.TrySetResult();
}

await stapled.Task.WaitAsync(TimeSpan.FromSeconds(60));
Console.WriteLine("Stapling. Check it with:");
Console.WriteLine($"  openssl s_client -connect 127.0.0.1:{port} -servername localhost -status -CAfile {args[4]} </dev/null");
await app.WaitForShutdownAsync();
return 0;
