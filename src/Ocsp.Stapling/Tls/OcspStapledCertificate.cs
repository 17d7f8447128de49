using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Ocsp.Stapling.Internal;

namespace Ocsp.Stapling;

/// <summary>
/// One server certificate as a TLS server serves it: the single <see cref="SslStreamCertificateContext"/> every
/// handshake for it uses, and the staple written into that context. Created by <see cref="OcspStaplingContexts"/>.
/// </summary>
public sealed class OcspStapledCertificate
{
    private readonly object _gate = new();
    private OcspStaple? _applied;
    private OcspStaple? _latest;
    private NotStapling? _notStapling;
    private bool _removed;

    internal OcspStapledCertificate(X509Certificate2 certificate, X509Certificate2? issuer, SslStreamCertificateContext context, NotStapling? notStapling)
    {
        Certificate = certificate;
        Issuer = issuer;
        Context = context;
        DisplayName = CertificateNames.DisplayName(certificate);
        IsMustStaple = certificate.IsMustStaple();
        _notStapling = notStapling;
    }

    /// <summary>Gets the server certificate.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>Gets its issuer, found in the chain given or the certificate store; <see langword="null"/> when there is none.</summary>
    public X509Certificate2? Issuer { get; }

    /// <summary>
    /// Gets the context to serve the certificate with, as <see cref="SslServerAuthenticationOptions.ServerCertificateContext"/>:
    /// it carries the provider's current validated staple, updated live, and none once that staple's nextUpdate passes.
    /// </summary>
    public SslStreamCertificateContext Context { get; }

    /// <summary>Gets a value indicating whether the certificate demands stapling (TLS Feature status_request, RFC 7633).</summary>
    public bool IsMustStaple { get; }

    /// <summary>Gets a value indicating whether handshakes with <see cref="Context"/> are stapled (see <see cref="NotStaplingReason"/> when not).</summary>
    public bool IsStapling => Volatile.Read(ref _notStapling) is null;

    /// <summary>Gets why <see cref="Context"/> carries no staple ever (no issuer, or stapling unsupported here); <see cref="OcspNotStaplingReason.None"/> when it staples. The log says it in words.</summary>
    public OcspNotStaplingReason NotStaplingReason => Volatile.Read(ref _notStapling)?.Reason ?? OcspNotStaplingReason.None;

    /// <summary>Gets why it carries no staple, in words; <see langword="null"/> when it staples.</summary>
    internal string? NotStaplingDetail => Volatile.Read(ref _notStapling)?.Detail;

    /// <summary>Gets the staple handshakes carry now, if any.</summary>
    public OcspStaple? ServedStaple => Volatile.Read(ref _applied);

    internal string DisplayName { get; }

    /// <summary>Gets a value indicating whether the context was removed (rotated away): set once, read without a lock.</summary>
    internal bool Removed => Volatile.Read(ref _removed);

    /// <summary>Marks the context removed (once; it is never served again).</summary>
    internal void MarkRemoved() => Volatile.Write(ref _removed, true);

    /// <summary>The staple state, as the logs say it.</summary>
    internal string DescribeStaple() =>
        ServedStaple is not { } staple
            ? IsMustStaple ? "no staple yet (MUST-STAPLE certificate)" : IsStapling ? "no staple yet" : "not stapled: " + NotStaplingDetail
            : $"{staple.Status}, nextUpdate {staple.NextUpdate:u}";

    /// <summary>Takes over the context's OCSP fields with what the provider serves now; must run before the context's first handshake.</summary>
    /// <exception cref="MissingFieldException">The runtime's fields are not what the probe saw.</exception>
    internal void Hook(OcspStaple? staple)
    {
        lock (_gate)
        {
            // The runtime staples the bytes as given: each staple gets its own array, never one a caller could still change.
            SslContextFields.Hook(Context, staple?.Encoded.ToArray(), staple?.NextUpdate ?? DateTimeOffset.MaxValue);
            Volatile.Write(ref _applied, staple);
            _latest = staple;
        }
    }

    internal void TurnOff(NotStapling reason) => Volatile.Write(ref _notStapling, reason);

    /// <summary>
    /// A newer validated response: serve it when <paramref name="served"/>, else (revoked) serve none. Events of one
    /// certificate may arrive out of order; an older response than the last one seen changes nothing.
    /// </summary>
    /// <returns><see langword="true"/> when the context changed.</returns>
    internal bool Update(OcspStaple staple, bool served)
    {
        lock (_gate)
        {
            if (!IsStapling || (_latest is { } latest && IsOlder(staple, latest)))
            {
                return false;
            }

            _latest = staple;
            return Write(served ? staple : null);
        }
    }

    /// <summary><paramref name="staple"/> is no longer served: clear it if it is the one in the context.</summary>
    /// <returns><see langword="true"/> when the context changed.</returns>
    internal bool Remove(OcspStaple staple)
    {
        lock (_gate)
        {
            if (!IsStapling || !ReferenceEquals(_latest, staple))
            {
                return false;
            }

            // Forget it as the ordering reference too: after a prune, the responder may answer with the very same times.
            _latest = null;
            return Write(null);
        }
    }

    private static bool IsOlder(OcspStaple staple, OcspStaple than) =>
        staple.ThisUpdate < than.ThisUpdate || (staple.ThisUpdate == than.ThisUpdate && staple.ProducedAt < than.ProducedAt);

    private bool Write(OcspStaple? staple)
    {
        if (ReferenceEquals(staple, _applied))
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
