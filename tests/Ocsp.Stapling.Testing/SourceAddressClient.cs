using System.Net;
using System.Net.Sockets;

namespace Ocsp.Stapling.Testing;

/// <summary>
/// An <see cref="HttpClient"/> whose connections come from a chosen loopback address (127.0.0.2, …): on Linux the whole
/// 127.0.0.0/8 is loopback, so one test can be several clients of a server on 127.0.0.1.
/// </summary>
public static class SourceAddressClient
{
    public static HttpClient Create(IPAddress source, int maxConnections = 16) => new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = maxConnections,
        ConnectCallback = async (context, cancellationToken) =>
        {
            var socket = new Socket(source.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                socket.Bind(new IPEndPoint(source, 0));
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    });
}
