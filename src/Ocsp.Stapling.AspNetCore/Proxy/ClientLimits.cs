using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Ocsp.Stapling.Internal;

namespace Ocsp.Stapling.AspNetCore.Internal;

/// <summary>
/// Per client (an IPv4 address, or an IPv6 /64: one host usually holds a whole /64): at most
/// <see cref="OcspProxyLimitOptions.MaxConcurrentForwardsPerClient"/> requests that may reach upstream under way at once, and
/// at most <see cref="OcspProxyLimitOptions.MaxForwardsPerSecondPerClient"/> of them asking a responder per second (a token
/// bucket of one second's worth, on the <see cref="TimeProvider"/>). Past either, the request is refused at once: there
/// is no queue for a flood to fill. Only requests that can cause an upstream request are counted, so a client asking for
/// what the proxy holds is never limited.
/// </summary>
/// <remarks>
/// Not ASP.NET Core's rate limiting middleware (<c>Microsoft.AspNetCore.RateLimiting</c>): it decides before the endpoint
/// runs, when whether a request will reach upstream (a held certificate, a nonce, a junk serial) is not known yet, so it
/// would limit the cached answers too; and its token buckets replenish on wall-clock timers, not on a
/// <see cref="TimeProvider"/>. An application can still put it in front of the whole endpoint
/// (<c>MapOcspProxy(…).RequireRateLimiting(…)</c>). At most <see cref="MaxClients"/> clients are tracked; idle ones
/// (nothing under way, bucket full: forgetting them changes nothing) are dropped when the table is full, and past that
/// every further client shares one overflow allowance, so a flood from many addresses costs no memory.
/// </remarks>
internal sealed class ClientLimits
{
    public const int MaxClients = 10_000;

    private static readonly UInt128 Overflow = UInt128.MaxValue;
    private readonly ConcurrentDictionary<UInt128, Client> _clients = new();
    private readonly TimeProvider _time;
    private readonly int _concurrency;
    private readonly double _rate;
    private long _lastSweep;

    public ClientLimits(OcspProxyOptions options, TimeProvider time)
    {
        _time = time;
        _concurrency = options.Limits.MaxConcurrentForwardsPerClient;
        _rate = options.Limits.MaxForwardsPerSecondPerClient;
        _lastSweep = time.GetTimestamp();
    }

    /// <summary>Gets how many clients are tracked now.</summary>
    public int Count => _clients.Count;

    /// <summary>The client a request comes from: its IPv4 address, or the /64 of its IPv6 address (IPv4-mapped addresses count as IPv4).</summary>
    public static UInt128 KeyOf(IPAddress? address)
    {
        if (address is null)
        {
            return UInt128.Zero; // no address (a test server, a Unix socket): one client
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        Span<byte> bytes = stackalloc byte[16];
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            address.TryWriteBytes(bytes[12..], out _);
            bytes[10] = bytes[11] = 0xFF; // ::ffff:a.b.c.d, as IPv4-mapped; never a /64 below (whose low half is zero)
        }
        else
        {
            address.TryWriteBytes(bytes, out _);
            bytes[8..].Clear();
        }

        return System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(bytes);
    }

    /// <summary>How a client key reads in logs: <c>192.0.2.7</c>, <c>2001:db8:1:2::/64</c>.</summary>
    public static string Describe(UInt128 key)
    {
        if (key == Overflow)
        {
            return "(clients past the tracked limit)";
        }

        Span<byte> bytes = stackalloc byte[16];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt128BigEndian(bytes, key);
        var address = new IPAddress(bytes);
        return address.IsIPv4MappedToIPv6 ? address.MapToIPv4().ToString() : address + "/64";
    }

    /// <summary>A lease on one request of this client that may reach upstream, or <see langword="null"/> (and the limit) when its concurrency limit is reached.</summary>
    public Lease? TryEnter(IPAddress? address, out ProxyLimit? limit)
    {
        Client client = ClientFor(KeyOf(address));
        lock (client)
        {
            if (client.InFlight >= _concurrency)
            {
                client.Refused++;
                limit = ProxyLimit.ClientConcurrency;
                return null;
            }

            client.InFlight++;
        }

        limit = null;
        return new Lease(client);
    }

    /// <summary>Takes the clients that were refused since the last call, with how many times, most refused first (the summary line's top offenders).</summary>
    public IReadOnlyList<(string Client, long Refused)> TakeRefused(int top)
    {
        var refused = new List<(string, long)>();
        foreach (KeyValuePair<UInt128, Client> pair in _clients)
        {
            long count;
            lock (pair.Value)
            {
                count = pair.Value.Refused;
                pair.Value.Refused = 0;
            }

            if (count > 0)
            {
                refused.Add((Describe(pair.Key), count));
            }
        }

        return [.. refused.OrderByDescending(r => r.Item2).Take(top)];
    }

    private Client ClientFor(UInt128 key)
    {
        if (_clients.TryGetValue(key, out Client? client))
        {
            return client;
        }

        if (_clients.Count >= MaxClients)
        {
            SweepIdle();
            if (_clients.Count >= MaxClients)
            {
                key = Overflow;
            }
        }

        return _clients.GetOrAdd(key, static (_, limits) => new Client(new TokenBucket(limits._time, limits._rate)), this);
    }

    /// <summary>Drops the clients with nothing under way and a full bucket (at most once a second: a sweep is O(clients)).</summary>
    private void SweepIdle()
    {
        long now = _time.GetTimestamp();
        long last = Interlocked.Read(ref _lastSweep);
        if (_time.GetElapsedTime(last, now) < TimeSpan.FromSeconds(1) || Interlocked.CompareExchange(ref _lastSweep, now, last) != last)
        {
            return;
        }

        foreach (KeyValuePair<UInt128, Client> pair in _clients)
        {
            lock (pair.Value)
            {
                if (pair.Value.InFlight == 0 && pair.Value.Refused == 0 && pair.Value.Bucket.IsFull)
                {
                    _clients.TryRemove(pair);
                }
            }
        }
    }

    internal sealed class Client(TokenBucket bucket)
    {
        public TokenBucket Bucket { get; } = bucket;

        public int InFlight { get; set; }

        public long Refused { get; set; }
    }

    /// <summary>One request of a client that may reach upstream: holds one of its concurrency slots until disposed.</summary>
    internal sealed class Lease : IDisposable
    {
        private readonly Client _client;
        private int _released;

        internal Lease(Client client) => _client = client;

        /// <summary>Takes one of the client's tokens for asking a responder now; <see langword="false"/> (counted as refused) when it has none left.</summary>
        public bool TryTakeToken()
        {
            lock (_client)
            {
                if (_client.Bucket.TryTake(out _))
                {
                    return true;
                }

                _client.Refused++;
                return false;
            }
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                lock (_client)
                {
                    _client.InFlight--;
                }
            }
        }
    }
}
