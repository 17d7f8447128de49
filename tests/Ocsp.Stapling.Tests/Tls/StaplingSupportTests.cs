using System.Net.Security;
using Ocsp.Stapling.Internal;

namespace Ocsp.Stapling.Tests.Tls;

public sealed class StaplingSupportTests
{
    [Fact]
    public void IsSupported_OnThisRuntime_IsTrueOnLinux()
    {
        // Pinned: a runtime update that removes or retypes the fields the hook writes must fail CI here, loudly,
        // instead of every server silently stapling nothing.
        Assert.True(OperatingSystem.IsLinux(), "CI runs on Linux, where the hook must work");
        Assert.Null(StaplingSupport.Unsupported);
    }

    [Fact]
    public void ProbeRuntime_NotOpenSslPlatform_SaysStaplingNeedsLinuxOrFreeBsd()
    {
        NotStapling? reason = StaplingSupport.ProbeRuntime(typeof(SslStreamCertificateContext), openSslPlatform: false);

        Assert.Equal(OcspNotStaplingReason.UnsupportedPlatform, reason?.Reason);
        Assert.Contains("Linux, FreeBSD", reason!.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void ProbeRuntime_FieldMissing_NamesIt()
    {
        NotStapling? reason = StaplingSupport.ProbeRuntime(typeof(ContextWithoutFields), openSslPlatform: true);

        Assert.Equal(OcspNotStaplingReason.UnsupportedRuntime, reason?.Reason);
        Assert.Contains("_ocspUrls is missing", reason!.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void ProbeRuntime_FieldRetyped_NamesItAndBothTypes()
    {
        NotStapling? reason = StaplingSupport.ProbeRuntime(typeof(ContextWithRetypedField), openSslPlatform: true);

        Assert.Equal(OcspNotStaplingReason.UnsupportedRuntime, reason?.Reason);
        Assert.Contains("_ocspResponse is ReadOnlyMemory`1, not Byte[]", reason!.Detail, StringComparison.Ordinal);
    }

#pragma warning disable CS0169, CS0649, IDE0044, IDE0051 // Shapes for the probe only.
    private sealed class ContextWithoutFields
    {
    }

    private sealed class ContextWithRetypedField
    {
        private List<string>? _ocspUrls;
        private ReadOnlyMemory<byte> _ocspResponse;
    }
#pragma warning restore CS0169, CS0649, IDE0044, IDE0051
}
