using System.Runtime.InteropServices;

namespace Ocsp.Stapling.Tests.Tls;

/// <summary>
/// Which runtime the TLS tests ran on. <c>.ci/run</c> runs them twice: on .NET 10, and on the .NET 11 shared runtime
/// (built for net10.0, rolled forward with <c>DOTNET_ROLL_FORWARD=LatestMajor</c>), and says which it expects in
/// <c>OCSP_STAPLING_EXPECTED_RUNTIME</c>: a pass that silently ran on another runtime fails here.
/// </summary>
public sealed class RuntimeTests
{
    [SkippableFact]
    public void Runtime_IsTheOneThisRunExpects()
    {
        string? expected = Environment.GetEnvironmentVariable("OCSP_STAPLING_EXPECTED_RUNTIME");
        Skip.If(expected is null, "OCSP_STAPLING_EXPECTED_RUNTIME is not set: only .ci/run's runtime passes say which runtime they expect");

        Assert.True(
            Environment.Version.ToString().StartsWith(expected + ".", StringComparison.Ordinal) || Environment.Version.ToString() == expected,
            $"expected .NET {expected}, running on {RuntimeInformation.FrameworkDescription} ({Environment.Version})");
    }
}
