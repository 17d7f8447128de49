using System.Buffers.Binary;

namespace Ocsp.Stapling.Internal;

/// <summary>
/// The serial numbers a CRL lists, with when and why each was revoked, packed for a lookup per handshake: one byte array
/// of the serials, one open-addressed table of their indexes, no object per entry. A lookup hashes the serial's bytes
/// and compares in place: no allocation. Serials are compared without leading zero octets (a DER INTEGER's sign octet),
/// as certificates and CRLs may differ there. Immutable once built.
/// </summary>
internal sealed class CrlSerials
{
    private readonly byte[] _bytes;      // the serials, one after another
    private readonly int[] _starts;      // entry i is _bytes[_starts[i].._starts[i + 1]]
    private readonly long[] _revokedAt;  // UTC ticks
    private readonly byte[] _reasons;    // OcspRevocationReason + 1, 0 when the CRL gives none
    private readonly int[] _table;       // entry index + 1, 0 = empty; a power of two, at most half full

    private CrlSerials(byte[] bytes, int[] starts, long[] revokedAt, byte[] reasons, int[] table)
    {
        _bytes = bytes;
        _starts = starts;
        _revokedAt = revokedAt;
        _reasons = reasons;
        _table = table;
    }

    /// <summary>Gets the number of serials listed (a serial listed twice counts once).</summary>
    public int Count => _revokedAt.Length;

    /// <summary>Gets the bytes held, for the benchmark's memory figure (arrays only).</summary>
    public long Size => _bytes.Length + (_starts.Length * 4L) + (_revokedAt.Length * 8L) + _reasons.Length + (_table.Length * 4L);

    /// <summary>Whether <paramref name="serialNumber"/> (big-endian, as in the certificate) is listed, and when and why.</summary>
    public bool TryFind(ReadOnlySpan<byte> serialNumber, out DateTimeOffset revokedAt, out OcspRevocationReason? reason)
    {
        ReadOnlySpan<byte> serial = Trim(serialNumber);
        int mask = _table.Length - 1;
        for (int slot = Hash(serial) & mask; ; slot = (slot + 1) & mask)
        {
            int index = _table[slot] - 1;
            if (index < 0)
            {
                revokedAt = default;
                reason = null;
                return false;
            }

            if (serial.SequenceEqual(_bytes.AsSpan(_starts[index], _starts[index + 1] - _starts[index])))
            {
                revokedAt = new DateTimeOffset(_revokedAt[index], TimeSpan.Zero);
                reason = _reasons[index] == 0 ? null : (OcspRevocationReason)(_reasons[index] - 1);
                return true;
            }
        }
    }

    private static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> serial)
    {
        int zeros = 0;
        while (zeros < serial.Length - 1 && serial[zeros] == 0)
        {
            zeros++;
        }

        return serial[zeros..];
    }

    /// <summary>FNV-1a over the serial, eight octets at a time where it can (serials are random: no attacker picks the set's keys, a CA does).</summary>
    private static int Hash(ReadOnlySpan<byte> serial)
    {
        ulong hash = 14695981039346656037UL;
        while (serial.Length >= 8)
        {
            hash = (hash ^ BinaryPrimitives.ReadUInt64LittleEndian(serial)) * 1099511628211UL;
            serial = serial[8..];
        }

        foreach (byte b in serial)
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        return (int)(hash ^ (hash >> 32)) & int.MaxValue;
    }

    /// <summary>Collects the entries of a CRL as it is read.</summary>
    internal sealed class Builder
    {
        private readonly List<byte> _bytes = [];
        private readonly List<int> _starts = [0];
        private readonly List<long> _revokedAt = [];
        private readonly List<byte> _reasons = [];

        public void Add(ReadOnlySpan<byte> serialNumber, DateTimeOffset revokedAt, OcspRevocationReason? reason)
        {
            ReadOnlySpan<byte> serial = Trim(serialNumber);
            foreach (byte b in serial)
            {
                _bytes.Add(b);
            }

            _starts.Add(_bytes.Count);
            _revokedAt.Add(revokedAt.UtcTicks);
            _reasons.Add(reason is { } r ? (byte)((int)r + 1) : (byte)0);
        }

        public CrlSerials Build()
        {
            byte[] bytes = [.. _bytes];
            int[] starts = [.. _starts];
            int count = _revokedAt.Count;
            int size = 16;
            while (size < count * 2)
            {
                size *= 2;
            }

            int[] table = new int[size];
            var kept = new List<int>(count);
            for (int i = 0; i < count; i++)
            {
                ReadOnlySpan<byte> serial = bytes.AsSpan(starts[i], starts[i + 1] - starts[i]);
                int slot = Hash(serial) & (size - 1);
                bool duplicate = false;
                while (table[slot] != 0)
                {
                    int other = table[slot] - 1;
                    if (serial.SequenceEqual(bytes.AsSpan(starts[other], starts[other + 1] - starts[other])))
                    {
                        duplicate = true; // listed twice: the first entry stands
                        break;
                    }

                    slot = (slot + 1) & (size - 1);
                }

                if (!duplicate)
                {
                    table[slot] = i + 1;
                    kept.Add(i);
                }
            }

            if (kept.Count == count)
            {
                return new CrlSerials(bytes, starts, [.. _revokedAt], [.. _reasons], table);
            }

            // Duplicates: rebuilt without them, so that Count is the number of distinct serials.
            var unique = new Builder();
            foreach (int i in kept)
            {
                OcspRevocationReason? reason = _reasons[i] == 0 ? null : (OcspRevocationReason)(_reasons[i] - 1);
                unique.Add(bytes.AsSpan(starts[i], starts[i + 1] - starts[i]), new DateTimeOffset(_revokedAt[i], TimeSpan.Zero), reason);
            }

            return unique.Build();
        }
    }
}
