using System.Security.Cryptography.X509Certificates;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tests.Provider;

/// <summary>
/// A staple signed by a delegated responder whose certificate expires before the response's nextUpdate (issue 19,
/// item 8): clients check that certificate, so the staple is served until it expires and not a moment longer.
/// </summary>
public sealed class ResponderCertificateExpiryTests(ResponderFixture fixture) : IClassFixture<ResponderFixture>, IDisposable
{
    private readonly FakeTimeProvider _time = fixture.Reset();
    private readonly TestOcspResponder _responder = fixture.Responder;

    public void Dispose() => _responder.AddIssuer(fixture.Pki.Intermediate); // back to the issuer signing

    [Fact]
    public async Task DelegatedResponderExpiresFirst_StapleEndsWithIt()
    {
        DateTimeOffset now = _time.GetUtcNow();
        using X509Certificate2 signer = fixture.Pki.IssueResponder("Short-lived OCSP Responder", fixture.Pki.Intermediate, withOcspSigning: true, now.AddDays(-1), now.AddDays(1));
        _responder.AddIssuer(fixture.Pki.Intermediate, signer);
        X509Certificate2 leaf = fixture.NewLeaf("short-signer");
        using var host = new ProviderHost(_time, b => b.UseMemoryOnly());
        host.Provider.Register(leaf, fixture.Pki.Intermediate);

        OcspStaple staple = (await host.Provider.RefreshAsync(leaf)).Response!;

        Assert.Equal(now + TimeSpan.FromDays(4), staple.ResponseNextUpdate);
        Assert.Equal(signer.NotAfter.ToUniversalTime(), staple.ResponderCertificateNotAfter!.Value.UtcDateTime);
        Assert.Equal(staple.ResponderCertificateNotAfter, staple.NextUpdate);
        Assert.True(host.State.NextRefresh < staple.NextUpdate); // refreshed before it, like any staple

        // The responder is gone; the signer's certificate expires: no longer served, though the response's nextUpdate is 3 days away.
        _responder.Fault = ResponderFault.Down;
        _time.Advance(staple.NextUpdate - now - TimeSpan.FromSeconds(1));
        Assert.True(host.Provider.TryGetCachedStaple(leaf, out _));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(host.Provider.TryGetCachedStaple(leaf, out _));
    }

    [Fact]
    public async Task IssuerSigned_NoResponderCertificate_NextUpdateAsWritten()
    {
        X509Certificate2 leaf = fixture.NewLeaf("issuer-signed");
        using var host = new ProviderHost(_time, b => b.UseMemoryOnly());
        host.Provider.Register(leaf, fixture.Pki.Intermediate);

        OcspStaple staple = (await host.Provider.RefreshAsync(leaf)).Response!;

        Assert.Null(staple.ResponderCertificateNotAfter);
        Assert.Equal(staple.ResponseNextUpdate, staple.NextUpdate);
    }
}
