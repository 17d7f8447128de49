using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Ocsp.Stapling.AspNetCore.Internal;

/// <summary>
/// One server certificate as Kestrel serves it: the single <see cref="SslStreamCertificateContext"/> every handshake
/// for it uses, and the staple written into that context.
/// </summary>
internal sealed class StapledCertificate
{
    private readonly object _gate = new();
    private OcspStaple? _applied;

    public StapledCertificate(X509Certificate2 certificate, X509Certificate2? issuer, SslStreamCertificateContext context)
    {
        Certificate = certificate;
        Issuer = issuer;
        Context = context;
        DisplayName = $"'{certificate.Subject}' (serial {certificate.SerialNumber})";
        IsMustStaple = certificate.IsMustStaple();
    }

    public X509Certificate2 Certificate { get; }

    public X509Certificate2? Issuer { get; }

    public SslStreamCertificateContext Context { get; }

    public string DisplayName { get; }

    public bool IsMustStaple { get; }

    /// <summary>Gets a value indicating whether the context's OCSP fields are ours (stapling on for this certificate).</summary>
    public bool IsHooked { get; private set; }

    /// <summary>Gets the staple written into the context, if any.</summary>
    public OcspStaple? Applied => Volatile.Read(ref _applied);

    /// <summary>Takes over the context's OCSP fields; must run before the context's first handshake.</summary>
    public void Hook(OcspStaple? staple)
    {
        lock (_gate)
        {
            // The runtime staples the bytes as given: each staple gets its own array, never one a caller could still change.
            SslContextFields.Hook(Context, staple?.Encoded.ToArray(), staple?.NextUpdate ?? DateTimeOffset.MaxValue);
            Volatile.Write(ref _applied, staple);
            IsHooked = true;
        }
    }

    /// <summary>Swaps in <paramref name="staple"/>, or removes the staple when <see langword="null"/>; false when nothing changed.</summary>
    public bool Apply(OcspStaple? staple)
    {
        lock (_gate)
        {
            if (!IsHooked || ReferenceEquals(staple, _applied))
            {
                return false;
            }

            if (staple is null)
            {
                SslContextFields.Clear(Context);
            }
            else
            {
                SslContextFields.SetStaple(Context, staple.Encoded.ToArray(), staple.NextUpdate);
            }

            Volatile.Write(ref _applied, staple);
            return true;
        }
    }
}
