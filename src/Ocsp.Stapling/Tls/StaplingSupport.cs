using System.Diagnostics.CodeAnalysis;
using System.Net.Security;
using System.Reflection;

namespace Ocsp.Stapling.Internal;

/// <summary>
/// Whether the TLS component can staple on this runtime and platform (<see cref="OcspStaplingContexts.IsSupported"/>).
/// The hook works where .NET terminates TLS with OpenSSL (Linux, FreeBSD) and <see cref="SslStreamCertificateContext"/>
/// has the private OCSP fields it writes, with the types it expects. Elsewhere TLS is served as usual, without a staple,
/// and the reason says why.
/// </summary>
internal static class StaplingSupport
{
    private static readonly Lazy<NotStapling?> Probe = new(ProbeRuntime);

    /// <summary>Gets why stapling is off on this runtime, or <see langword="null"/> when it is supported.</summary>
    public static NotStapling? Unsupported => Probe.Value;

    /// <summary>Checks the platform and the shape of the runtime's private fields; <see langword="null"/> when usable.</summary>
    internal static NotStapling? ProbeRuntime() => ProbeRuntime(typeof(SslStreamCertificateContext), OperatingSystem.IsLinux() || OperatingSystem.IsFreeBSD());

    /// <remarks>
    /// The annotation keeps the fields' metadata in trimmed and Native AOT apps (the caller's <c>typeof</c> is
    /// analyzable), so the probe sees the runtime's real fields there too, the ones the accessors of
    /// <see cref="SslContextFields"/> are bound to.
    /// </remarks>
    internal static NotStapling? ProbeRuntime([DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.NonPublicFields)] Type contextType, bool openSslPlatform)
    {
        if (!openSslPlatform)
        {
            return new(
                OcspNotStaplingReason.UnsupportedPlatform,
                $"the runtime staples only where TLS is OpenSSL-based (Linux, FreeBSD); this is {System.Runtime.InteropServices.RuntimeInformation.OSDescription}");
        }

        foreach ((string name, Type type) in SslContextFields.Expected)
        {
            FieldInfo? field = contextType.GetField(name, BindingFlags.Instance | BindingFlags.NonPublic);
            if (field is null)
            {
                return new(OcspNotStaplingReason.UnsupportedRuntime, $"{contextType.Name}.{name} is missing in .NET {Environment.Version}");
            }

            if (field.FieldType != type)
            {
                return new(OcspNotStaplingReason.UnsupportedRuntime, $"{contextType.Name}.{name} is {field.FieldType.Name}, not {type.Name}, in .NET {Environment.Version}");
            }
        }

        return null;
    }
}
