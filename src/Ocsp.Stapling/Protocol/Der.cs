using Org.BouncyCastle.Asn1;

namespace Ocsp.Stapling.Protocol;

/// <summary>Strict DER entry point over BouncyCastle: one object, no trailing bytes, every decoder failure an <see cref="OcspFormatException"/>.</summary>
internal static class Der
{
    public static Asn1Object ReadSingleObject(byte[] bytes, string what)
    {
        if (bytes.Length == 0)
        {
            throw new OcspFormatException($"The {what} is empty.");
        }

        using var stream = new MemoryStream(bytes, writable: false);
        using var input = new Asn1InputStream(stream, bytes.Length);
        Asn1Object? value = input.ReadObject();
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

    public static DateTimeOffset ToDateTimeOffset(DerGeneralizedTime time)
    {
        DateTime value = time.ToDateTime();
        return value.Kind == DateTimeKind.Local
            ? new DateTimeOffset(value.ToUniversalTime(), TimeSpan.Zero)
            : new DateTimeOffset(DateTime.SpecifyKind(value, DateTimeKind.Utc), TimeSpan.Zero);
    }
}
