using System.Net.Sockets;
using System.Text;

namespace Ocsp.Stapling.Tool;

/// <summary>
/// HAProxy's runtime API (its stats socket, at <c>level admin</c>): a validated response is pushed with
/// <c>set ssl ocsp-response &lt;base64&gt;</c>, so that HAProxy staples it without a reload. HAProxy checks it as it does
/// at load (successful, one single response, not unknown, nextUpdate in the future, a CertID it already knows: the
/// certificate's <c>.ocsp</c> file must have existed when it was loaded) and answers "OCSP Response updated!" or why not.
/// </summary>
internal sealed class HaProxySocket
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private HaProxySocket(string address) => Address = address;

    /// <summary>Gets the socket as given: a unix socket path, or <c>host:port</c>.</summary>
    public string Address { get; }

    /// <summary>A socket given on the command line or in the configuration: a path (unix socket) or <c>host:port</c>.</summary>
    /// <exception cref="ToolException">Neither (exit 64, naming <paramref name="source"/>).</exception>
    public static HaProxySocket Parse(string text, string source)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new ToolException(ExitCodes.Usage, $"{source}: an empty HAProxy socket (give a unix socket path or host:port).");
        }

        if (!text.Contains('/', StringComparison.Ordinal) && !TryHostPort(text, out _, out _))
        {
            throw new ToolException(ExitCodes.Usage, $"{source}: '{text}' is neither a unix socket path (with a '/', e.g. ./admin.sock) nor host:port.");
        }

        return new HaProxySocket(text);
    }

    /// <summary>Pushes <paramref name="response"/>; <see langword="null"/> when HAProxy took it, else what went wrong (its answer, or why it could not be asked).</summary>
    public async Task<string?> PushAsync(ReadOnlyMemory<byte> response, CancellationToken cancellationToken)
    {
        (string? text, string? failure) = await AskAsync($"set ssl ocsp-response {Convert.ToBase64String(response.Span)}\n", cancellationToken).ConfigureAwait(false);
        return failure ?? (text!.Contains("OCSP Response updated", StringComparison.Ordinal) ? null : Refused(text));
    }

    /// <summary>
    /// Replaces the CRL HAProxy loaded from <paramref name="path"/> (its <c>crl-file</c>, as named in its configuration) with
    /// <paramref name="pem"/>, without a reload: <c>set ssl crl-file</c> (a transaction) then <c>commit ssl crl-file</c>,
    /// each answer checked. <see langword="null"/> when committed, else what went wrong.
    /// </summary>
    public async Task<string?> PushCrlAsync(string path, string pem, CancellationToken cancellationToken)
    {
        (string? set, string? failure) = await AskAsync($"set ssl crl-file {path} <<\n{pem.TrimEnd('\n')}\n\n", cancellationToken).ConfigureAwait(false);
        if (failure is not null || !set!.Contains("transaction", StringComparison.OrdinalIgnoreCase))
        {
            return failure ?? Refused(set!);
        }

        (string? commit, failure) = await AskAsync($"commit ssl crl-file {path}\n", cancellationToken).ConfigureAwait(false);
        return failure ?? (commit!.Contains("success", StringComparison.OrdinalIgnoreCase) ? null : Refused(commit));
    }

    private string Refused(string text) =>
        $"HAProxy at {Address} refused it: {(text.Length == 0 ? "(no answer)" : string.Join(" ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))}";

    /// <summary>One command on a connection of its own (HAProxy's non-interactive mode answers and closes): its answer, or why there is none.</summary>
    private async Task<(string? Answer, string? Failure)> AskAsync(string command, CancellationToken cancellationToken)
    {
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(Timeout);
        try
        {
            using Socket socket = await ConnectAsync(bound.Token).ConfigureAwait(false);
            await socket.SendAsync(Encoding.ASCII.GetBytes(command), SocketFlags.None, bound.Token).ConfigureAwait(false);
            var answer = new StringBuilder();
            byte[] buffer = new byte[4096];
            int read;
            while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, bound.Token).ConfigureAwait(false)) > 0 && answer.Length < 64 * 1024)
            {
                answer.Append(Encoding.UTF8.GetString(buffer, 0, read));
            }

            return (answer.ToString().Trim(), null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, $"HAProxy at {Address} did not answer within {Timeout.TotalSeconds:0} s");
        }
        catch (SocketException ex)
        {
            return (null, $"cannot reach HAProxy at {Address}: {ex.Message}");
        }
    }

    private static bool TryHostPort(string text, out string host, out int port)
    {
        int colon = text.LastIndexOf(':');
        host = colon > 0 ? text[..colon].Trim('[', ']') : "";
        port = 0;
        return colon > 0 && int.TryParse(text.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out port) && port is > 0 and < 65536;
    }

    private async Task<Socket> ConnectAsync(CancellationToken cancellationToken)
    {
        if (!Address.Contains('/', StringComparison.Ordinal) && TryHostPort(Address, out string host, out int port))
        {
            var tcp = new Socket(SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await tcp.ConnectAsync(host, port, cancellationToken).ConfigureAwait(false);
                return tcp;
            }
            catch
            {
                tcp.Dispose();
                throw;
            }
        }

        var unix = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await unix.ConnectAsync(new UnixDomainSocketEndPoint(Address), cancellationToken).ConfigureAwait(false);
            return unix;
        }
        catch
        {
            unix.Dispose();
            throw;
        }
    }
}
