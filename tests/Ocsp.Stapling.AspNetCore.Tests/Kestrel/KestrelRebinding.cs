using System.Security.Cryptography.X509Certificates;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.AspNetCore.Tests.Kestrel;

/// <summary>
/// After a configuration reload Kestrel stops the changed endpoint and binds it again in the background, and says so to
/// nobody: a handshake in between is refused or served by the old listener. These wait for the certificate wanted.
/// </summary>
internal static class KestrelRebinding
{
    /// <summary>The OCSP block of the first handshake that serves <paramref name="leaf"/> (a signal: waited for, <see cref="Signals"/>).</summary>
    public static async Task<string?> OpenSslStatusAsync(int port, X509Certificate2 leaf, string caFile)
    {
        string name = leaf.GetNameInfo(X509NameType.DnsName, false);
        string last = string.Empty;
        Tuple<string?> served = await Signals.WaitAsync(
            async () =>
            {
                try
                {
                    (string? ocsp, string output) = await TlsClients.OpenSslStatusAsync(port, name, caFile, "-tls1_3");
                    last = output;
                    return output.Split('\n').Any(line => line.StartsWith("subject=", StringComparison.Ordinal) && line.Contains(name, StringComparison.Ordinal))
                        ? Tuple.Create(ocsp)
                        : null;
                }
                catch (InvalidOperationException ex)
                {
                    last = ex.Message;
                    return null;
                }
            },
            $"the endpoint to serve {leaf.Subject}",
            diagnostics: () => "last attempt:\n" + last);
        return served.Item1;
    }
}
