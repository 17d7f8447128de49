using System.Security.Cryptography.X509Certificates;
using Ocsp.Stapling.Internal;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tests.Crls;

/// <summary>A CRL of 100,000 entries: read and validated, every serial found, a lookup allocating nothing; serials compared without sign octets.</summary>
public sealed class CrlScaleTests(PkiFixture fixture, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<PkiFixture>
{
    [Fact]
    public void HundredThousandEntries_AllFound_OthersNot_LookupsAllocateNothing()
    {
        TestPki pki = fixture.Pki;
        X509Certificate2 listed = pki.IssueClient("scale-listed", null);
        X509Certificate2 other = pki.IssueClient("scale-other", null);
        byte[] der = TestCrls.BuildLarge(pki.Intermediate, 100_000, pki.Now.AddHours(-1), pki.Now.AddDays(1), listed);

        ParsedCrl crl = ParsedCrl.Parse(der);

        Assert.Null(CrlValidation.Check(crl, pki.Intermediate, new Uri("http://crl.test.invalid/ca.crl"), pki.Now, TimeSpan.FromMinutes(5), held: null));
        Assert.Equal(100_001, crl.Revoked.Count);
        ReadOnlyMemory<byte> yes = listed.SerialNumberBytes;
        ReadOnlyMemory<byte> no = other.SerialNumberBytes;
        Assert.True(crl.Revoked.TryFind(yes.Span, out _, out _));
        long before = GC.GetAllocatedBytesForCurrentThread();
        int found = 0;
        for (int i = 0; i < 10_000; i++)
        {
            found += crl.Revoked.TryFind(yes.Span, out _, out _) ? 1 : 0;
            found += crl.Revoked.TryFind(no.Span, out _, out _) ? 1 : 0;
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(10_000, found);
        Assert.InRange(crl.Revoked.Size, 1_000_000, 8_000_000); // packed: about 40 bytes an entry
        output.WriteLine($"100,000 entries: DER {der.Length:N0} bytes, packed serials {crl.Revoked.Size:N0} bytes");
    }

    [Fact]
    public void Serials_ComparedWithoutLeadingZeroOctets_DuplicatesCountedOnce()
    {
        var builder = new CrlSerials.Builder();
        builder.Add([0x00, 0x80, 0x01], DateTimeOffset.UnixEpoch, OcspRevocationReason.Superseded);
        builder.Add([0x80, 0x01], DateTimeOffset.UnixEpoch.AddDays(1), null);
        builder.Add([0x05], DateTimeOffset.UnixEpoch, null);
        CrlSerials serials = builder.Build();

        Assert.Equal(2, serials.Count);
        Assert.True(serials.TryFind([0x80, 0x01], out DateTimeOffset at, out OcspRevocationReason? reason));
        Assert.Equal((DateTimeOffset.UnixEpoch, OcspRevocationReason.Superseded), (at, reason)); // the first entry stands
        Assert.True(serials.TryFind([0x00, 0x00, 0x05], out _, out _));
        Assert.False(serials.TryFind([0x05, 0x00], out _, out _));
        Assert.False(serials.TryFind([0x80], out _, out _));
    }
}
