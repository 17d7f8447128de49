using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Ocsp.Stapling.Internal;
using Ocsp.Stapling.Testing;
using Xunit.Abstractions;

namespace Ocsp.Stapling.Tests.Caching;

/// <summary>100,000 certificates in one process: costs grow linearly, asserted by allocation counts and retained bytes, not by time.</summary>
[Collection(HeapMeasurements.Name)]
public sealed class ScaleTests(ResponderFixture fixture, ITestOutputHelper output) : IClassFixture<ResponderFixture>
{
    private const int Certificates = 100_000;

    [Fact]
    public void RegisterAll_100000Certificates_AllocatesLinearly_RetainsUnder4KBEach_AndLooksUpWithoutAllocating()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        X509Certificate2[] leaves = SyntheticCertificates.Clone(fixture.Pki.Leaf, Certificates);
        output.WriteLine($"{Certificates} certificates made in {clock.Elapsed}");
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Information));
        services.AddSingleton<TimeProvider>(fixture.Reset());
        services.AddOcspStapling().UseMemoryOnly();
        using ServiceProvider provider = services.BuildServiceProvider();
        var sut = provider.GetRequiredService<OcspResponseProvider>();
        RegistrationStore store = provider.GetRequiredService<RegistrationStore>();
        (X509Certificate2, X509Certificate2)[] firstHalf = [.. leaves[..(Certificates / 2)].Select(l => (l, fixture.Pki.Intermediate))];
        (X509Certificate2, X509Certificate2)[] secondHalf = [.. leaves[(Certificates / 2)..].Select(l => (l, fixture.Pki.Intermediate))];

        // The target is the registry's cost beyond the certificate object itself: what the certificate caches inside
        // itself once read (its parsed extensions, thumbprint) is made first, as a server holding it has.
        foreach (X509Certificate2 leaf in leaves)
        {
            _ = leaf.Extensions.Count + leaf.Thumbprint.Length;
        }

        long heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Equal(Certificates / 2, sut.RegisterAll(firstHalf));
        long middle = GC.GetAllocatedBytesForCurrentThread();
        Assert.Equal(Certificates / 2, sut.RegisterAll(secondHalf));
        long after = GC.GetAllocatedBytesForCurrentThread();
        long heapAfter = GC.GetTotalMemory(forceFullCollection: true);
        output.WriteLine($"registered in {clock.Elapsed}: {(middle - before) / (Certificates / 2)} / {(after - middle) / (Certificates / 2)} bytes allocated per certificate (first / second half), {(heapAfter - heapBefore) / Certificates} retained");

        // Linear: the second 50,000 cost what the first did (a quadratic registry would cost three times as much).
        double ratio = (double)(after - middle) / (middle - before);
        Assert.True(ratio < 1.25, $"second half allocated {ratio:F2}x the first ({(after - middle) / (Certificates / 2)} vs {(middle - before) / (Certificates / 2)} bytes per certificate)");
        long retained = (heapAfter - heapBefore) / Certificates;
        Assert.True(retained <= 4096, $"{retained} bytes retained per registered certificate, over 4 KB");
        Assert.Equal(Certificates, store.Count);

        // The lookup at 100,000: found, and 0 bytes.
        X509Certificate2 probe = leaves[77_777];
        Assert.NotNull(sut.FindRegistration(probe));
        sut.TryGetCachedStaple(probe, out _);
        long lookupBefore = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            sut.TryGetCachedStaple(leaves[i * 97], out _);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - lookupBefore);
        GC.KeepAlive(leaves);
    }
}
