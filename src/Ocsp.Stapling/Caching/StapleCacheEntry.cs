using System.Buffers.Binary;

namespace Ocsp.Stapling.Internal;

/// <summary>
/// The self-describing shared-cache (L2) value: magic, format version, when the response was fetched, then its DER.
/// Readers re-validate the DER against the certificate: an entry in a shared store is never trusted as is. Shared
/// source: the provider writes and reads it, the tool's <c>status</c> command reads it.
/// </summary>
internal static class StapleCacheEntry
{
    private const uint Magic = 0x4F535031; // "OSP1"
    private const byte Version = 1;
    /// <summary>The bytes before the DER: magic, version, fetch time.</summary>
    public const int HeaderSize = 4 + 1 + 8;

    public static byte[] Serialize(OcspStaple staple)
    {
        ReadOnlySpan<byte> der = staple.Encoded.Span;
        byte[] value = new byte[HeaderSize + der.Length];
        BinaryPrimitives.WriteUInt32BigEndian(value, Magic);
        value[4] = Version;
        BinaryPrimitives.WriteInt64BigEndian(value.AsSpan(5), staple.FetchedAt.UtcTicks);
        der.CopyTo(value.AsSpan(HeaderSize));
        return value;
    }

    public static bool TryDeserialize(ReadOnlySpan<byte> value, out DateTimeOffset fetchedAt, out ReadOnlyMemory<byte> der)
    {
        fetchedAt = default;
        der = default;
        if (value.Length <= HeaderSize || BinaryPrimitives.ReadUInt32BigEndian(value) != Magic || value[4] != Version)
        {
            return false;
        }

        long ticks = BinaryPrimitives.ReadInt64BigEndian(value[5..]);
        if (ticks < DateTimeOffset.MinValue.UtcTicks || ticks > DateTimeOffset.MaxValue.UtcTicks)
        {
            return false;
        }

        fetchedAt = new DateTimeOffset(ticks, TimeSpan.Zero);
        der = value[HeaderSize..].ToArray();
        return true;
    }
}
