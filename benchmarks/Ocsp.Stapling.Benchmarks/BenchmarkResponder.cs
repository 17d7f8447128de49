using System.Runtime.InteropServices;
using System.Security.Cryptography.X509Certificates;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Benchmarks;

/// <summary>
/// <c>--responder DIR</c>: the upstream of <c>benchmarks/proxy-vs-nginx.sh</c>. A test PKI and its OCSP responder on
/// 127.0.0.1 (an ephemeral port), with what the script needs written to <paramref name="directory"/>: <c>issuer.pem</c>,
/// <c>leaf.pem</c>, <c>responder.url</c>, and <c>get-path</c> (the RFC 5019 GET path of the leaf's request). Runs until
/// SIGTERM or SIGINT.
/// </summary>
internal static class BenchmarkResponder
{
    public static async Task<int> RunAsync(string directory)
    {
        Directory.CreateDirectory(directory);
        await using TestOcspResponder responder = await TestOcspResponder.StartAsync();
        using TestPki pki = TestPki.Create(responder.Url);
        responder.AddIssuer(pki.Intermediate);
        X509Certificate2 leaf = pki.IssueLeaf("proxy-benchmark.test", responder.Url);
        await File.WriteAllTextAsync(Path.Combine(directory, "issuer.pem"), TestPki.ToPem(pki.Intermediate));
        await File.WriteAllTextAsync(Path.Combine(directory, "leaf.pem"), TestPki.ToPem(leaf));
        await File.WriteAllTextAsync(Path.Combine(directory, "responder.url"), responder.Url.AbsoluteUri);
        byte[] request = OcspRequest.Create(leaf, pki.Intermediate).Encoded.ToArray();
        await File.WriteAllTextAsync(Path.Combine(directory, "get-path"), "/" + OcspHttpEncoding.EncodeForGet(request));
        await File.WriteAllBytesAsync(Path.Combine(directory, "request.der"), request);

        var stop = new TaskCompletionSource();
        using PosixSignalRegistration term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.TrySetResult(); });
        using PosixSignalRegistration interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.TrySetResult(); });
        await File.WriteAllTextAsync(Path.Combine(directory, "ready"), "");
        await stop.Task;
        Console.WriteLine($"Responder answered {responder.RequestCount} request(s).");
        return 0;
    }
}
