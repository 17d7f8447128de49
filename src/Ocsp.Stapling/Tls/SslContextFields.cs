using System.Net.Security;
using System.Runtime.CompilerServices;

namespace Ocsp.Stapling.Internal;

/// <summary>
/// Writes the private OCSP fields of <see cref="SslStreamCertificateContext"/> (Linux/FreeBSD OpenSSL implementation):
/// the runtime has no public API to supply a staple, but on each server handshake it staples <c>_ocspResponse</c>
/// while <c>_ocspExpiration</c> has not passed. Only call where <see cref="StaplingSupport.Unsupported"/> is null:
/// <see cref="UnsafeAccessorAttribute"/> throws <see cref="MissingFieldException"/> when a field is gone or retyped.
/// </summary>
internal static class SslContextFields
{
    /// <summary>The fields written, with the exact types the accessors below are compiled against (checked by the probe).</summary>
    internal static readonly (string Name, Type Type)[] Expected =
    [
        ("_ocspUrls", typeof(List<string>)),
        ("_ocspResponse", typeof(byte[])),
        ("_ocspExpiration", typeof(DateTimeOffset)),
        ("_nextDownload", typeof(DateTimeOffset)),
        ("_staplingForbidden", typeof(bool)),
    ];

    /// <summary>
    /// Turns stapling on for a context created with <c>offline: true</c> (which leaves it forbidden) without letting the
    /// runtime fetch: an empty, non-null URL list enables stapling yet gives its own downloader nothing to ask, and
    /// <c>_nextDownload</c> = max stops background refreshes. <c>_staplingForbidden</c> is cleared last so that no
    /// handshake sees a half-configured context.
    /// </summary>
    public static void Hook(SslStreamCertificateContext context, byte[]? staple, DateTimeOffset expiration)
    {
        OcspUrls(context) = [];
        NextDownload(context) = DateTimeOffset.MaxValue;
        if (staple is null)
        {
            Clear(context);
        }
        else
        {
            SetStaple(context, staple, expiration);
        }

        Volatile.Write(ref StaplingForbidden(context), false);
    }

    /// <summary>
    /// Swaps in a new staple. The response is written before its expiry: a handshake racing the swap sees the new
    /// bytes with the old expiry (harmless), never old bytes with a later expiry. The runtime also drops the staple
    /// once its own clock passes <paramref name="expiration"/> (nextUpdate), a backstop to our scheduler.
    /// </summary>
    public static void SetStaple(SslStreamCertificateContext context, byte[] staple, DateTimeOffset expiration)
    {
        Volatile.Write(ref OcspResponse(context), staple);
        OcspExpiration(context) = expiration.ToUniversalTime();
    }

    /// <summary>Stops stapling: no bytes, and an expiry that never sends the runtime to its (empty) downloader.</summary>
    public static void Clear(SslStreamCertificateContext context)
    {
        Volatile.Write(ref OcspResponse(context), null);
        OcspExpiration(context) = DateTimeOffset.MaxValue;
    }

    /// <summary>The bytes the runtime staples now (for diagnostics and tests).</summary>
    public static byte[]? AppliedResponse(SslStreamCertificateContext context) => Volatile.Read(ref OcspResponse(context));

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_ocspUrls")]
    private static extern ref List<string>? OcspUrls(SslStreamCertificateContext context);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_ocspResponse")]
    private static extern ref byte[]? OcspResponse(SslStreamCertificateContext context);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_ocspExpiration")]
    private static extern ref DateTimeOffset OcspExpiration(SslStreamCertificateContext context);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_nextDownload")]
    private static extern ref DateTimeOffset NextDownload(SslStreamCertificateContext context);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_staplingForbidden")]
    private static extern ref bool StaplingForbidden(SslStreamCertificateContext context);
}
