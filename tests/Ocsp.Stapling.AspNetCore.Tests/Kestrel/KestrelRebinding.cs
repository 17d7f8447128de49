using System.Security.Cryptography.X509Certificates;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.AspNetCore.Tests.Kestrel;

/// <summary>
/// After a configuration reload Kestrel stops the changed endpoint and binds it again in the background, and says so to
/// nobody: a handshake in between is refused or served by the old listener. These wait for the certificate wanted.
/// </summary>
internal static class KestrelRebinding
{
    /// <summary>The OCSP block of the first handshake (of at most 50, 100 ms apart) that serves <paramref name="leaf"/>.</summary>
    public static async Task<string?> OpenSslStatusAsync(int port, X509Certificate2 leaf, string caFile)
    {
        string name = leaf.GetNameInfo(X509NameType.DnsName, false);
        string last = string.Empty;
        for (int attempt = 0; attempt < 50; attempt++)
        {
            try
            {
                (string? ocsp, string output) = await TlsClients.OpenSslStatusAsync(port, name, caFile, "-tls1_3");
                if (output.Split('\n').Any(line => line.StartsWith("subject=", StringComparison.Ordinal) && line.Contains(name, StringComparison.Ordinal)))
                {
                    return ocsp;
                }

                last = output;
            }
            catch (InvalidOperationException ex)
            {
                last = ex.Message;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"The endpoint never served {leaf.Subject}; last attempt:\n{last}");
    }
}
