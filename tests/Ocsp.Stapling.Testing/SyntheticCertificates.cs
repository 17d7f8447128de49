using System.Buffers.Binary;
using System.Security.Cryptography.X509Certificates;

namespace Ocsp.Stapling.Testing;

/// <summary>
/// Many certificates at almost no cost, for scale tests and benchmarks: copies of one template whose serial number is
/// overwritten in the DER (same length, so the encoding stays valid). Their signatures no longer verify, which nothing
/// that registers, looks up or stores certificates checks; OCSP responses for them are signed and valid as usual.
/// </summary>
public static class SyntheticCertificates
{
    /// <summary>Returns <paramref name="count"/> certificates like <paramref name="template"/> with distinct serial numbers.</summary>
    /// <param name="template">A certificate whose serial number is at least 8 bytes long (the test PKIs' are 16).</param>
    /// <param name="count">How many.</param>
    /// <returns>The copies.</returns>
    public static X509Certificate2[] Clone(X509Certificate2 template, int count)
    {
        byte[] der = template.RawData;
        byte[] serial = template.SerialNumberBytes.ToArray();
        if (serial.Length < 8)
        {
            throw new ArgumentException("The template's serial number is shorter than 8 bytes.", nameof(template));
        }

        int at = der.AsSpan().IndexOf(serial);
        var copies = new X509Certificate2[count];

        // Loading costs about 0.3 ms a certificate on Linux: on every core.
        Parallel.For(0, count, i =>
        {
            byte[] copy = (byte[])der.Clone();

            // The last 4 serial bytes count; the first stays (it keeps the INTEGER positive and minimal).
            BinaryPrimitives.WriteInt32BigEndian(copy.AsSpan(at + serial.Length - 4), i + 1);
            copies[i] = X509CertificateLoader.LoadCertificate(copy);
        });

        return copies;
    }
}
