using System.Runtime.InteropServices;

namespace Ocsp.Stapling.Internal;

/// <summary>Compares certificates by their DER bytes without allocating (finds a registration from another instance of the same certificate).</summary>
internal sealed class RawDataComparer : IEqualityComparer<ReadOnlyMemory<byte>>
{
    public static readonly RawDataComparer Instance = new();

    public bool Equals(ReadOnlyMemory<byte> x, ReadOnlyMemory<byte> y) => x.Span.SequenceEqual(y.Span);

    public int GetHashCode(ReadOnlyMemory<byte> obj)
    {
        // The head holds the serial number (after the TBSCertificate and version headers, within 64 bytes for serials of
        // up to 20 bytes, RFC 5280's maximum) and the tail is the signature: together they tell certificates of one CA
        // apart even when one part repeats (certificates re-signed deterministically, or copies with patched serials).
        ReadOnlySpan<byte> span = obj.Span;
        var hash = default(HashCode);
        hash.Add(span.Length);
        hash.AddBytes(span.Length >= 64 ? span[..64] : span);
        hash.AddBytes(span.Length >= 16 ? span[^16..] : span);
        return hash.ToHashCode();
    }
}
