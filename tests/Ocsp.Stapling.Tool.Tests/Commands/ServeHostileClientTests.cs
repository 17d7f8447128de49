using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tool.Tests.Commands;

/// <summary>
/// <c>serve</c> as a process against hostile clients (issue 19, items 3 and 5): mutated requests, slowloris, a
/// cold-start stampede, and Host / absolute-form tricks. Each is held: no 5xx, the proxy keeps answering, and a counting
/// listener on another loopback port (what a trick would aim at) sees no connection.
/// </summary>
public sealed class ServeHostileClientTests(ToolFixture fixture) : IClassFixture<ToolFixture>
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(60); // a guard against a hang, not a timing

    [SkippableFact]
    public async Task Serve_1000MutatedRequests_FromOpenSsl_NoServerError_NothingOutsideTheAllowList()
    {
        Requires.Programs("openssl");
        LeafFiles site = fixture.NewLeaf("mutated");
        LeafFiles other = fixture.NewLeaf("mutated-other");
        await using var listener = new CountingListener();
        byte[][] seeds =
        [
            await OpenSslRequestAsync(site, "-no_nonce", "-cert", site.Leaf),
            await OpenSslRequestAsync(site, "-cert", site.Leaf),
            await OpenSslRequestAsync(site, "-no_nonce", "-sha256", "-cert", site.Leaf),
            await OpenSslRequestAsync(site, "-no_nonce", "-cert", site.Leaf, "-cert", other.Leaf),
        ];
        await using ServeProcess proxy = await StartAsync(site, "--max-forwards-per-second", "1000", "--max-concurrent-forwards", "64");

        var random = new Random(19);
        var statuses = new Dictionary<int, int>();
        using var client = new HttpClient { Timeout = Guard };
        await Parallel.ForAsync(0, 1000, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, token) =>
        {
            byte[] mutated;
            lock (random)
            {
                mutated = Mutate(seeds[i % seeds.Length], random);
            }

            // Half addressed to the proxy itself, half naming the listener (a host the proxy must never contact).
            string host = i % 3 == 0 ? listener.Url().Authority : proxy.Url.Authority;
            using HttpRequestMessage message = i % 2 == 0
                ? new HttpRequestMessage(HttpMethod.Post, proxy.Url) { Content = OcspContent(mutated) }
                : new HttpRequestMessage(HttpMethod.Get, new Uri(proxy.Url, OcspHttpEncoding.EncodeForGet(mutated)));
            message.Headers.Host = host;
            using HttpResponseMessage response = await client.SendAsync(message, token);
            int status = (int)response.StatusCode;
            Assert.True(status < 500, $"mutation {i} ({Convert.ToHexString(mutated)}): HTTP {status}\n{proxy.Output}");
            if (status == 200)
            {
                OcspResponse.Parse(await response.Content.ReadAsByteArrayAsync(token)); // an OCSP answer, never garbage
            }

            lock (statuses)
            {
                statuses[status] = statuses.GetValueOrDefault(status) + 1;
            }
        });

        Assert.Equal(0, listener.Connections);
        Assert.True(statuses.Keys.Count > 1, "every mutation was answered alike: " + Describe(statuses));
        await AssertStillGoodAsync(proxy, site);
        AssertNoErrors(proxy);
    }

    [Fact]
    public async Task Serve_Slowloris_200Connections_ClosedAtTheHeaderTimeout_WhileServing_MaxConnectionsHeld()
    {
        LeafFiles site = fixture.NewLeaf("slowloris");
        await using var listener = new CountingListener();
        await using ServeProcess proxy = await StartAsync(site, "--header-timeout", "2s", "--max-connections", "205");

        List<TcpClient> slow = [];
        try
        {
            for (int i = 0; i < 200; i++)
            {
                var connection = new TcpClient();
                await connection.ConnectAsync(IPAddress.Loopback, proxy.Url.Port);
                await connection.GetStream().WriteAsync(Encoding.ASCII.GetBytes($"POST / HTTP/1.1\r\nHost: {listener.Url().Authority}\r\nX-a: "));
                slow.Add(connection);
            }

            // While the 200 hang in their headers, the proxy still answers.
            await AssertStillGoodAsync(proxy, site);

            // Each slow client keeps trickling header bytes; the server closes it once the header timeout has passed.
            Task[] closed = [.. slow.Select(c => TrickleUntilClosedAsync(c.GetStream()))];
            await Task.WhenAll(closed).WaitAsync(TimeSpan.FromSeconds(30)); // Kestrel's default header timeout is 30 s
        }
        finally
        {
            slow.ForEach(c => c.Dispose());
        }

        await AssertStillGoodAsync(proxy, site);

        // --max-connections: with 205 held, the 206th is closed without an answer.
        List<TcpClient> held = [];
        try
        {
            for (int i = 0; i < 205; i++)
            {
                var connection = new TcpClient();
                await connection.ConnectAsync(IPAddress.Loopback, proxy.Url.Port);
                held.Add(connection);
            }

            using var extra = new TcpClient();
            await extra.ConnectAsync(IPAddress.Loopback, proxy.Url.Port);
            NetworkStream stream = extra.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET / HTTP/1.1\r\nHost: {proxy.Url.Authority}\r\n\r\n"));
            Assert.Equal(0, await ReadSomeAsync(stream).WaitAsync(Guard));
        }
        finally
        {
            held.ForEach(c => c.Dispose());
        }

        Assert.Equal(0, listener.Connections);
        AssertNoErrors(proxy);
    }

    [Fact]
    public async Task Serve_Ca_2000ConcurrentGets_Cold_OneUpstreamRequest_AllGood()
    {
        LeafFiles site = fixture.NewLeaf("stampede");
        string cache = Path.Combine(site.Directory, "cache");
        await using ServeProcess proxy = await ServeProcess.StartAsync(
            "--cache", cache, "--ca", fixture.IssuerFile, "--allow-responder", fixture.Responder.Url.AbsoluteUri, "--max-connections", "4096");
        byte[] request = OcspRequest.Create(site.Certificate, fixture.Pki.Intermediate).Encoded.ToArray();
        var url = new Uri(proxy.Url, OcspHttpEncoding.EncodeForGet(request));
        int before = fixture.Responder.RequestCount;

        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 2000 }) { Timeout = Guard };
        byte[][] bodies = await Task.WhenAll(Enumerable.Range(0, 2000).Select(async _ =>
        {
            using HttpResponseMessage response = await client.GetAsync(url);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return await response.Content.ReadAsByteArrayAsync();
        }));

        Assert.True(fixture.Responder.RequestCount - before == 1, $"{fixture.Responder.RequestCount - before} upstream requests:\n{proxy.Output}");
        foreach (byte[] body in bodies.Distinct(new ByteArrayComparer()))
        {
            OcspValidationResult validation = OcspResponseValidator.Validate(body, site.Certificate, fixture.Pki.Intermediate, TimeProvider.System.GetUtcNow());
            Assert.True(validation.IsValid, validation.Message);
        }

        AssertNoErrors(proxy);
    }

    [Theory]
    [InlineData("POST / HTTP/1.1", "0x7f.0.0.1:{listener}")]
    [InlineData("POST / HTTP/1.1", "2130706433:{listener}")]
    [InlineData("POST / HTTP/1.1", "127.1:{listener}")]
    [InlineData("POST / HTTP/1.1", "0177.0.0.1:{listener}")]
    [InlineData("POST / HTTP/1.1", "[::ffff:127.0.0.1]:{listener}")]
    [InlineData("POST / HTTP/1.1", "[::1]:{listener}")]
    [InlineData("POST / HTTP/1.1", "localhost.:{listener}")]
    [InlineData("POST / HTTP/1.1", "127.0.0.1.:{listener}")]
    [InlineData("POST / HTTP/1.1", "LOCALHOST:{listener}")]
    [InlineData("POST / HTTP/1.1", "user@127.0.0.1:{listener}")]
    [InlineData("POST / HTTP/1.1", "{responderHost}.:{listener}")]
    [InlineData("POST http://0x7f.0.0.1:{listener}/ HTTP/1.1", "0x7f.0.0.1:{listener}")]
    [InlineData("POST http://2130706433:{listener}/ HTTP/1.1", "2130706433:{listener}")]
    [InlineData("POST http://user@127.0.0.1:{listener}/ HTTP/1.1", "127.0.0.1:{listener}")]
    [InlineData("POST HTTP://LOCALHOST.:{listener}/ HTTP/1.1", "LOCALHOST.:{listener}")]
    [InlineData("POST http://[::1]:{listener}/ HTTP/1.1", "[::1]:{listener}")]
    [InlineData("POST http://127.0.0.1:{listener}/ HTTP/1.1", "{responder}")]
    [InlineData("GET http://2130706433:{listener}/{get} HTTP/1.1", "2130706433:{listener}")]
    [InlineData("GET http://user@{responder}/{get} HTTP/1.1", "{responder}")]
    public async Task Serve_HostAndAbsoluteFormTricks_Held_ListenerNeverReached(string requestLine, string host)
    {
        LeafFiles site = fixture.NewLeaf("host-trick");
        await using var listener = new CountingListener();
        await using ServeProcess proxy = await StartAsync(site);

        // A nonce: the proxy must forward it, so a trick that worked would reach the listener.
        byte[] request = OcspRequest.Create(OcspCertificateId.Create(site.Certificate, fixture.Pki.Intermediate, OcspHashAlgorithm.Sha1), new byte[16]).Encoded.ToArray();
        string Fill(string text) => text
            .Replace("{listener}", listener.Port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("{responderHost}", fixture.Responder.Url.Host, StringComparison.Ordinal)
            .Replace("{responder}", fixture.Responder.Url.Authority, StringComparison.Ordinal)
            .Replace("{get}", OcspHttpEncoding.EncodeForGet(request), StringComparison.Ordinal);
        bool post = requestLine.StartsWith("POST", StringComparison.Ordinal);
        string head = $"{Fill(requestLine)}\r\nHost: {Fill(host)}\r\nConnection: close\r\n"
            + (post ? $"Content-Type: application/ocsp-request\r\nContent-Length: {request.Length}\r\n" : "") + "\r\n";

        (int status, byte[] body) = await RawAsync(proxy.Url, head, post ? request : []).WaitAsync(Guard);

        Assert.True(status is > 0 and < 500, $"HTTP {status} for {head}\n{proxy.Output}");
        if (status == 200)
        {
            OcspResponse.Parse(body); // relayed from the allowed responder, or tryLater
        }

        Assert.Equal(0, listener.Connections);
        AssertNoErrors(proxy);
    }

    [Theory]
    [InlineData("--max-connections", "0")]
    [InlineData("--header-timeout", "0s")]
    [InlineData("--header-timeout", "soon")]
    [InlineData("--keep-alive-timeout", "2h")]
    [InlineData("--min-data-rate", "-1")]
    [InlineData("--max-concurrent-forwards", "0")]
    [InlineData("--max-forwards-per-second", "0")]
    [InlineData("--max-concurrent-forwards-per-client", "0")]
    [InlineData("--max-forwards-per-second-per-client", "0")]
    [InlineData("--forget-after", "30s")]
    [InlineData("--unknown-cache-time", "2d")]
    [InlineData("--max-cached-per-ca", "0")]
    public async Task Serve_BadLimit_Exits64_NamingTheOption(string option, string value)
    {
        ProgramResult refused = await ToolFixture.RunToolAsync("serve", "--allow-responder", fixture.Responder.Url.AbsoluteUri, option, value);

        Assert.True(refused.ExitCode == 64, refused.ToString());
        Assert.Contains(option + " ", refused.StandardError.Replace(":", " ", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    private Task<ServeProcess> StartAsync(LeafFiles site, params string[] more) => ServeProcess.StartAsync(
        ["--cache", Path.Combine(site.Directory, "cache"), "--cert", site.Leaf, "--issuer", fixture.IssuerFile, "--allow-responder", fixture.Responder.Url.AbsoluteUri, .. more]);

    private async Task<byte[]> OpenSslRequestAsync(LeafFiles site, params string[] arguments)
    {
        string file = Path.Combine(site.Directory, $"request-{Guid.NewGuid():N}.der");
        ProgramResult made = await ExternalProgram.RunAsync("openssl", ["ocsp", "-issuer", fixture.IssuerFile, .. arguments, "-reqout", file]);
        Assert.True(made.ExitCode == 0, made.ToString());
        return await File.ReadAllBytesAsync(file);
    }

    /// <summary>One mutation of a valid request: bit flips, overwritten or inserted bytes, truncation, duplicated slices, broken lengths, or garbage.</summary>
    private static byte[] Mutate(byte[] seed, Random random)
    {
        List<byte> bytes = [.. seed];
        int At() => random.Next(bytes.Count);
        switch (random.Next(8))
        {
            case 0:
                bytes[At()] ^= (byte)(1 << random.Next(8));
                break;
            case 1:
                bytes[At()] = (byte)random.Next(256);
                break;
            case 2:
                bytes = bytes[..random.Next(bytes.Count)];
                break;
            case 3:
                bytes.InsertRange(At(), Enumerable.Range(0, random.Next(1, 17)).Select(_ => (byte)random.Next(256)));
                break;
            case 4:
                int start = At();
                bytes.InsertRange(start, bytes.GetRange(start, random.Next(1, bytes.Count - start + 1)));
                break;
            case 5:
                // A length octet (the byte after a tag) made long-form, indefinite or huge.
                int tag = random.Next(bytes.Count - 1);
                bytes[tag + 1] = (byte)(random.Next(3) switch { 0 => 0x80, 1 => 0x84, _ => 0xFF });
                break;
            case 6:
                bytes = [.. Enumerable.Range(0, random.Next(0, 300)).Select(_ => (byte)random.Next(256))];
                break;
            default:
                for (int flips = random.Next(2, 11); flips > 0; flips--)
                {
                    bytes[At()] ^= (byte)(1 << random.Next(8));
                }

                break;
        }

        return [.. bytes];
    }

    private async Task AssertStillGoodAsync(ServeProcess proxy, LeafFiles site)
    {
        using var client = new HttpClient { Timeout = Guard };
        using HttpResponseMessage response = await client.PostAsync(proxy.Url, OcspContent(OcspRequest.Create(site.Certificate, fixture.Pki.Intermediate).Encoded.ToArray()));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        OcspValidationResult validation = OcspResponseValidator.Validate(
            await response.Content.ReadAsByteArrayAsync(), site.Certificate, fixture.Pki.Intermediate, TimeProvider.System.GetUtcNow());
        Assert.True(validation.IsValid, $"{validation.Message}\n{proxy.Output}");
    }

    /// <summary>No log line at fail or crit level (the console's "fail:" / "crit:"), and no unhandled exception.</summary>
    private static void AssertNoErrors(ServeProcess proxy)
    {
        string output = proxy.Output;
        Assert.DoesNotContain("fail:", output, StringComparison.Ordinal);
        Assert.DoesNotContain("crit:", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled", output, StringComparison.OrdinalIgnoreCase);
    }

    private static ByteArrayContent OcspContent(byte[] der)
    {
        var content = new ByteArrayContent(der);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/ocsp-request");
        return content;
    }

    private static async Task TrickleUntilClosedAsync(NetworkStream stream)
    {
        using var ticks = new PeriodicTimer(TimeSpan.FromMilliseconds(500));
        Task<int> read = ReadSomeAsync(stream);
        while (!read.IsCompleted)
        {
            try
            {
                await stream.WriteAsync("a"u8.ToArray());
            }
            catch (IOException)
            {
                break; // reset by the server: closed
            }

            await Task.WhenAny(read, ticks.WaitForNextTickAsync().AsTask());
        }

        await read;
    }

    /// <summary>Reads until the server closes the connection; returns the bytes it sent (0 for a close without an answer).</summary>
    private static async Task<int> ReadSomeAsync(NetworkStream stream)
    {
        byte[] buffer = new byte[4096];
        int total = 0;
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer)) > 0)
            {
                total += read;
            }
        }
        catch (IOException)
        {
            // reset: closed as well
        }

        return total;
    }

    /// <summary>One raw HTTP/1.1 exchange (the request exactly as given; Connection: close): the status and, with Content-Length, the body.</summary>
    private static async Task<(int Status, byte[] Body)> RawAsync(Uri server, string head, byte[] body)
    {
        using var connection = new TcpClient();
        await connection.ConnectAsync(IPAddress.Loopback, server.Port);
        NetworkStream stream = connection.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        await stream.WriteAsync(body);
        using var received = new MemoryStream();
        try
        {
            await stream.CopyToAsync(received);
        }
        catch (IOException)
        {
            // closed by a reset after the answer
        }

        byte[] all = received.ToArray();
        string text = Encoding.ASCII.GetString(all);
        int end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (end < 0 || !text.StartsWith("HTTP/1.1 ", StringComparison.Ordinal))
        {
            return (0, []);
        }

        int status = int.Parse(text.AsSpan(9, 3), CultureInfo.InvariantCulture);
        bool hasLength = text[..end].Split("\r\n").Any(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
        return (status, hasLength ? all[(end + 4)..] : []);
    }

    private static string Describe(Dictionary<int, int> statuses) =>
        string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}: {s.Value}"));

    private sealed class ByteArrayComparer : IEqualityComparer<byte[]>
    {
        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] obj) => obj.Length;
    }
}
