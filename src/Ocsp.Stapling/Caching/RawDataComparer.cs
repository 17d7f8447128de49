using System.Runtime.InteropServices;

namespace Ocsp.Stapling.Internal;

/// <summary>Compares certificates by their DER bytes without allocating (finds a registration from another instance of the same certificate).</summary>
internal sealed class RawDataComparer : IEqualityComparer<ReadOnlyMemory<byte>>
{
    public static readonly RawDataComparer Instance = new();

    public bool Equals(ReadOnlyMemory<byte> x, ReadOnlyMemory<byte> y) => x.Span.SequenceEqual(y.Span);

    public int GetHashCode(ReadOnlyMemory<byte> obj)
    {
        // The tail of a certificate is its signature: as good as random, so a few bytes make a good hash.
        ReadOnlySpan<byte> span = obj.Span;
        ReadOnlySpan<byte> tail = span.Length >= 16 ? span[^16..] : span;
        var hash = default(HashCode);
        hash.Add(span.Length);
        hash.AddBytes(tail);
        return hash.ToHashCode();
    }
}
