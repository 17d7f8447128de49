using Ocsp.Stapling.AspNetCore.Internal;

namespace Ocsp.Stapling.AspNetCore.Tests.Proxy;

/// <summary>The proxy's memo of decoded GET targets: found by span, bounded in count and key length, also under races.</summary>
public sealed class GetRequestMemoTests
{
    private static readonly OcspRequest Request = OcspRequest.Create(
        new OcspCertificateId(OcspHashAlgorithm.Sha1, new byte[20], new byte[20], [0x01]), ReadOnlySpan<byte>.Empty);

    [Fact]
    public void Added_FoundByAnySpanOfTheSameText_NoOtherText()
    {
        var memo = new GetRequestMemo();
        memo.Add("/MFEwTzBN".AsSpan(1), Request);

        Assert.True(memo.TryGet("GET /MFEwTzBN HTTP/1.1".AsSpan(5, 8), out OcspRequest? found));
        Assert.Same(Request, found);
        Assert.False(memo.TryGet("MFEwTzBn", out _)); // base64 is case-sensitive: another request
        Assert.False(memo.TryGet("MFEwTzB", out _));
    }

    [Fact]
    public void ManyDistinctTargets_NeverMoreThanTheCapacity_TheLatestHeld()
    {
        var memo = new GetRequestMemo();
        for (int i = 0; i < GetRequestMemo.Capacity * 3 + 17; i++)
        {
            memo.Add($"target-{i}", Request);
            Assert.True(memo.Count <= GetRequestMemo.Capacity, $"{memo.Count} held after {i + 1}");
        }

        Assert.True(memo.TryGet($"target-{GetRequestMemo.Capacity * 3 + 16}", out _));
    }

    [Fact]
    public void TargetOverTheLengthBound_NotHeld()
    {
        var memo = new GetRequestMemo();
        string longest = new('A', GetRequestMemo.MaxTargetLength);

        memo.Add(longest, Request);
        memo.Add(longest + "A", Request);

        Assert.True(memo.TryGet(longest, out _));
        Assert.False(memo.TryGet(longest + "A", out _));
        Assert.Equal(1, memo.Count);
    }

    [Fact]
    public async Task ConcurrentAdds_StayBounded()
    {
        var memo = new GetRequestMemo();
        const int Writers = 4;
        await Task.WhenAll(Enumerable.Range(0, Writers).Select(w => Task.Run(() =>
        {
            for (int i = 0; i < 20_000; i++)
            {
                memo.Add($"{w}-{i}", Request);
                memo.Add($"shared-{i % 50}", Request); // the same targets from every writer: added once
            }
        })));

        Assert.InRange(memo.Count, 1, GetRequestMemo.Capacity + Writers);
    }
}
