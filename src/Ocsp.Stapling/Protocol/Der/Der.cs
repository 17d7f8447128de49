using Org.BouncyCastle.Asn1;

namespace Ocsp.Stapling.Internal;

/// <summary>Strict DER entry point over BouncyCastle: one object, no trailing bytes, every decoder failure an <see cref="OcspFormatException"/>.</summary>
internal static class Der
{
    public const int MaxDepth = 32;

    public static Asn1Object ReadSingleObject(byte[] bytes, string what)
    {
        if (bytes.Length == 0)
        {
            throw new OcspFormatException($"The {what} is empty.");
        }

        CheckStructure(bytes, what);
        using var stream = new MemoryStream(bytes, writable: false);
        using var input = new Asn1InputStream(stream, bytes.Length);
        Asn1Object? value = Decode(what, input.ReadObject); // BouncyCastle throws many types on malformed input
        if (value is null)
        {
            throw new OcspFormatException($"The {what} holds no ASN.1 object.");
        }

        if (stream.Position != bytes.Length)
        {
            throw new OcspFormatException($"The {what} has {bytes.Length - stream.Position} bytes after its ASN.1 object.");
        }

        return value;
    }

    /// <summary>
    /// Walks the TLV structure without recursion before BouncyCastle sees it: definite lengths only (DER), every length
    /// inside its parent, nesting at most <see cref="MaxDepth"/> (OCSP structures nest about 12 levels deep). Kept for DER
    /// strictness with a clear reason: BouncyCastle 2.x accepts indefinite (BER) lengths, and rejects deep nesting only
    /// at 64 levels (quickly, unlike 1.8, which spent seconds on a 60 KiB nested input).
    /// </summary>
    public static void CheckStructure(ReadOnlySpan<byte> data, string what)
    {
        Span<int> ends = stackalloc int[MaxDepth + 1];
        int depth = 0;
        ends[0] = data.Length;
        int position = 0;
        while (true)
        {
            while (depth > 0 && position == ends[depth])
            {
                depth--;
            }

            if (position >= data.Length)
            {
                return;
            }

            byte tag = data[position++];
            if ((tag & 0x1F) == 0x1F)
            {
                // High tag number form: base-128 continuation octets.
                int continuation = 0;
                do
                {
                    if (position >= ends[depth] || ++continuation > 4)
                    {
                        throw new OcspFormatException($"The {what} has a malformed tag.");
                    }
                }
                while ((data[position++] & 0x80) != 0);
            }

            if (position >= ends[depth])
            {
                throw new OcspFormatException($"The {what} is truncated.");
            }

            int first = data[position++];
            long length;
            if (first < 0x80)
            {
                length = first;
            }
            else if (first == 0x80)
            {
                throw new OcspFormatException($"The {what} uses an indefinite length, which DER forbids.");
            }
            else
            {
                int count = first & 0x7F;
                if (count > 4 || position + count > ends[depth])
                {
                    throw new OcspFormatException($"The {what} has a malformed length.");
                }

                length = 0;
                for (int i = 0; i < count; i++)
                {
                    length = (length << 8) | data[position++];
                }
            }

            if (length > ends[depth] - position)
            {
                throw new OcspFormatException($"The {what} is truncated (an element claims {length} bytes, {ends[depth] - position} remain).");
            }

            if ((tag & 0x20) != 0)
            {
                if (++depth > MaxDepth)
                {
                    throw new OcspFormatException($"The {what} nests deeper than {MaxDepth} levels.");
                }

                ends[depth] = position + (int)length;
            }
            else
            {
                position += (int)length;
            }
        }
    }

    /// <summary>Runs a BouncyCastle decoding step, turning whatever it throws on hostile input into <see cref="OcspFormatException"/>.</summary>
    public static T Decode<T>(string what, Func<T> decode)
    {
        try
        {
            return decode();
        }
        catch (OcspFormatException)
        {
            throw;
        }
#pragma warning disable CA1031 // BouncyCastle throws many unrelated types (IOException, ArgumentException, InvalidCastException, IndexOutOfRange…) on malformed input.
        catch (Exception ex) when (ex is not OutOfMemoryException and not StackOverflowException)
#pragma warning restore CA1031
        {
            throw new OcspFormatException($"The {what} is malformed: {ex.Message}", ex);
        }
    }

    public static DateTimeOffset ToDateTimeOffset(Asn1GeneralizedTime time)
    {
        DateTime value = time.ToDateTime();
        return value.Kind == DateTimeKind.Local
            ? new DateTimeOffset(value.ToUniversalTime(), TimeSpan.Zero)
            : new DateTimeOffset(DateTime.SpecifyKind(value, DateTimeKind.Utc), TimeSpan.Zero);
    }
}
