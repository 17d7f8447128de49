using System.Collections.Concurrent;

namespace Ocsp.Stapling.AspNetCore.Internal;

/// <summary>
/// The decoded requests of recent GET targets, so that the same cached GET asked again — the proxy's usual work: every
/// server of a fleet asks the same few URLs — is not unescaped, base64-decoded and DER-parsed again. A pure map (a target
/// always decodes to the same immutable <see cref="OcspRequest"/>); every check that depends on the request's context
/// (its <c>Host</c>, its client, the limits, what the store holds) still runs on every request. Bounded: only targets
/// that decoded, of at most <see cref="MaxTargetLength"/> characters, at most <see cref="Capacity"/> of them, emptied when
/// full — a client sending endless distinct requests costs at most that memory and the decoding it would have cost anyway.
/// </summary>
internal sealed class GetRequestMemo
{
    /// <summary>The most targets held (a fleet's certificates many times over; about 0.5 MB when every one is as long as allowed).</summary>
    public const int Capacity = 1024;

    /// <summary>The longest target held: RFC 5019's 255-byte request is at most 344 base64 characters, some percent-escaped.</summary>
    public const int MaxTargetLength = 512;

    private readonly ConcurrentDictionary<string, OcspRequest> _requests = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, OcspRequest>.AlternateLookup<ReadOnlySpan<char>> _byText;
    private int _count;

    public GetRequestMemo() => _byText = _requests.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>Gets how many targets are held (tests; locks the whole map).</summary>
    public int Count => _requests.Count;

    /// <summary>The request decoded from <paramref name="target"/> before, if held; no allocation.</summary>
    public bool TryGet(ReadOnlySpan<char> target, out OcspRequest? request) => _byText.TryGetValue(target, out request);

    /// <summary>Holds the request <paramref name="target"/> decoded to; empties the memo first when it is full.</summary>
    public void Add(ReadOnlySpan<char> target, OcspRequest request)
    {
        if (target.Length > MaxTargetLength)
        {
            return;
        }

        if (Interlocked.Increment(ref _count) > Capacity)
        {
            _requests.Clear(); // a race may hold a few more until the next clear: still bounded
            Volatile.Write(ref _count, 1);
        }

        if (!_byText.TryAdd(target, request))
        {
            Interlocked.Decrement(ref _count); // another request added it meanwhile
        }
    }
}
