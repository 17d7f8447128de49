using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace Ocsp.Stapling.Benchmarks;

/// <summary>
/// <c>--floor PORT BODY HEADERS</c>: the proxy's floor for <c>benchmarks/proxy-vs-nginx.sh</c>. Kestrel on 127.0.0.1
/// answering every request with the bytes and headers <c>ocsp-stapling serve</c> sent for the cached GET (the files
/// <c>curl -o BODY -D HEADERS</c> wrote), and doing nothing else: no routing, no middleware, no lookup, no request check.
/// What serve could reach at most on the same server. Runs until SIGTERM or SIGINT.
/// </summary>
internal static class BenchmarkFloor
{
    /// <summary>Headers Kestrel writes itself, not copied from serve's answer.</summary>
    private static readonly HashSet<string> Own = new(StringComparer.OrdinalIgnoreCase) { "Date", "Server", "Content-Length", "Transfer-Encoding", "Connection" };

    public static async Task<int> RunAsync(int port, string bodyFile, string headersFile)
    {
        byte[] body = await File.ReadAllBytesAsync(bodyFile);
        KeyValuePair<string, StringValues>[] headers =
        [
            .. (await File.ReadAllLinesAsync(headersFile))
                .Skip(1) // the status line
                .Select(line => line.Split(':', 2))
                .Where(parts => parts.Length == 2 && !Own.Contains(parts[0].Trim()))
                .Select(parts => new KeyValuePair<string, StringValues>(parts[0].Trim(), parts[1].Trim())),
        ];
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
        await using WebApplication app = builder.Build();
        app.Run(context =>
        {
            HttpResponse response = context.Response;
            foreach (KeyValuePair<string, StringValues> header in headers)
            {
                response.Headers[header.Key] = header.Value;
            }

            response.ContentLength = body.Length;
            return response.Body.WriteAsync(body).AsTask();
        });
        await app.RunAsync();
        return 0;
    }
}
