using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Ocsp.Stapling.Testing;

/// <summary>
/// A TCP listener on 127.0.0.1 (ephemeral port) that counts the connections it accepts and answers each with an HTTP 200
/// carrying <see cref="Body"/> as an OCSP response: the "internal service" a redirect or a Host trick must never reach.
/// </summary>
public sealed class CountingListener : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _connections;

    public CountingListener()
    {
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _loop = AcceptAsync();
    }

    public int Port { get; }

    /// <summary>A URL on the listener: <c>http://127.0.0.1:PORT/</c> plus <paramref name="path"/>.</summary>
    public Uri Url(string path = "") => new($"http://127.0.0.1:{Port}/{path}");

    /// <summary>Connections accepted so far.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Gets or sets a value indicating whether connections are accepted and never answered (held open until disposal): a host that stalls whoever connects.</summary>
    public bool Silent { get; set; }

    /// <summary>The body of every answer (by default the DER of an OCSP <c>unauthorized</c> response, recognisable if relayed).</summary>
    public byte[] Body { get; set; } = [0x30, 0x03, 0x0A, 0x01, 0x06];

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Stop();
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket = await _listener.AcceptSocketAsync(_stop.Token).ConfigureAwait(false);
            Interlocked.Increment(ref _connections);
            _ = AnswerAsync(socket);
        }
    }

    private async Task AnswerAsync(Socket socket)
    {
        using (socket)
        {
            try
            {
                byte[] buffer = new byte[8192];
                await socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token).ConfigureAwait(false);
                if (Silent)
                {
                    await Task.Delay(Timeout.Infinite, _stop.Token).ConfigureAwait(false);
                }

                byte[] head = Encoding.ASCII.GetBytes(
                    $"HTTP/1.1 200 OK\r\nContent-Type: application/ocsp-response\r\nContent-Length: {Body.Length}\r\nConnection: close\r\n\r\n");
                await socket.SendAsync(head.Concat(Body).ToArray(), SocketFlags.None, _stop.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException)
            {
            }
        }
    }
}
