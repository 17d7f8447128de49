using System.Net;
using System.Net.Sockets;

namespace Ocsp.Stapling.Testing;

/// <summary>
/// A loopback TCP relay in front of a store server (PostgreSQL, Redis), to take it away from a client mid-run without touching the
/// server other tests use: <see cref="Stop"/> resets every connection and refuses new ones (what a stopped server looks
/// like to a client), <see cref="Hang"/> accepts and never answers (a dead network path), <see cref="Start"/> restores.
/// </summary>
public sealed class TcpRelay : IAsyncDisposable
{
    private long _towardsClients;
    private readonly IPEndPoint _target;
    private readonly List<Socket> _open = [];
    private readonly CancellationTokenSource _disposed = new();
    private TcpListener? _listener;
    private volatile bool _hang;
    private int _accepted;
    private TaskCompletionSource _firstAccepted = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TcpRelay(string host, int port)
    {
        _target = new IPEndPoint(IPAddress.Parse(host), port);
        Port = Listen(0);
    }

    public int Port { get; }

    /// <summary>Gets how many client connections reached the relay.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>Gets the bytes relayed from the server to its clients so far.</summary>
    public long BytesTowardsClients => Interlocked.Read(ref _towardsClients);

    /// <summary>Completes once a client connection has reached the relay (a test waits for it before moving its clock).</summary>
    public Task WhenAcceptedAsync() => _firstAccepted.Task;

    public void Stop()
    {
        Interlocked.Exchange(ref _listener, null)?.Stop();
        CloseAll();
    }

    public void Hang()
    {
        _hang = true;
        CloseAll();
    }

    public void Start()
    {
        _hang = false;
        if (_listener is null)
        {
            Listen(Port);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _disposed.CancelAsync();
        Stop();
        _disposed.Dispose();
    }

    private int Listen(int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Start();
        _listener = listener;
        _ = AcceptLoopAsync(listener);
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private async Task AcceptLoopAsync(TcpListener listener)
    {
        while (!_disposed.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptSocketAsync(_disposed.Token);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
            {
                return;
            }

            Interlocked.Increment(ref _accepted);
            _firstAccepted.TrySetResult();
            Track(client);
            if (_hang)
            {
                continue; // held open, never answered
            }

            var server = new Socket(SocketType.Stream, ProtocolType.Tcp);
            Track(server);
            try
            {
                await server.ConnectAsync(_target, _disposed.Token);
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException)
            {
                client.Close(0);
                continue;
            }

            _ = PumpAsync(client, server, towardsClient: false);
            _ = PumpAsync(server, client, towardsClient: true);
        }
    }

    private async Task PumpAsync(Socket from, Socket to, bool towardsClient)
    {
        byte[] buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                int read = await from.ReceiveAsync(buffer, SocketFlags.None, _disposed.Token);
                if (read == 0 || _hang)
                {
                    break;
                }

                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _disposed.Token);
                if (towardsClient)
                {
                    Interlocked.Add(ref _towardsClients, read);
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }

        if (!_hang)
        {
            from.Close(0);
            to.Close(0);
        }
    }

    private void Track(Socket socket)
    {
        lock (_open)
        {
            _open.Add(socket);
        }
    }

    private void CloseAll()
    {
        lock (_open)
        {
            foreach (Socket socket in _open)
            {
                socket.Close(0); // linger 0: the peer sees a reset, as when a server process dies
            }

            _open.Clear();
        }
    }
}
