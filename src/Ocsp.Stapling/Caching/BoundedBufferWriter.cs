using System.Buffers;

namespace Ocsp.Stapling.Internal;

/// <summary>
/// The destination of a shared-store read (<see cref="Microsoft.Extensions.Caching.Distributed.IBufferDistributedCache.TryGetAsync"/>):
/// takes at most <see cref="Limit"/> bytes and refuses, by throwing <see cref="StoreEntryTooLargeException"/>, the first
/// request for more — a store that asks for the value's whole size before copying it (the file store, the PostgreSQL
/// store, the tool's Redis store) is refused before a byte of an oversized value is copied.
/// </summary>
internal sealed class BoundedBufferWriter(int limit) : IBufferWriter<byte>
{
    private byte[] _buffer = [];
    private int _written;

    /// <summary>Gets the most bytes this writer takes.</summary>
    public int Limit { get; } = limit;

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (_written + count > _buffer.Length)
        {
            throw new InvalidOperationException("Advanced past the buffer handed out.");
        }

        _written += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0) => Reserve(sizeHint).AsMemory(_written);

    public Span<byte> GetSpan(int sizeHint = 0) => Reserve(sizeHint).AsSpan(_written);

    /// <summary>The bytes written.</summary>
    public byte[] ToArray() => _buffer.AsSpan(0, _written).ToArray();

    private byte[] Reserve(int sizeHint)
    {
        long needed = (long)_written + Math.Max(sizeHint, 1);
        if (needed > Limit)
        {
            throw new StoreEntryTooLargeException(needed, Limit);
        }

        if (needed > _buffer.Length)
        {
            // Grow to what is asked (a store that knows the size asks for all of it at once), doubling for stores that do not.
            int size = (int)Math.Min(Limit, Math.Max(needed, Math.Min((long)_buffer.Length * 2, Limit)));
            Array.Resize(ref _buffer, size);
        }

        return _buffer;
    }
}

/// <summary>A shared-store value larger than the largest valid entry: refused unread.</summary>
internal sealed class StoreEntryTooLargeException(long size, int limit)
    : Exception($"The entry holds at least {size} bytes, over the {limit} bytes of the largest valid entry; refused unread.")
{
    public long Size { get; } = size;
}
