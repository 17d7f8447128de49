using System.Numerics;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Ocsp.Stapling.Internal;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tests.Crls;

/// <summary>
/// CRLs made by <c>openssl ca -gencrl</c> for a CA kept by <c>openssl ca</c> (certificates with a CRL distribution point
/// and no OCSP URL, as step-ca or a small private CA issues them), read, validated and used to decide, on the machine's
/// clock.
/// </summary>
public sealed class OpenSslCrlTests : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "ocsp-stapling-crl-" + Guid.NewGuid().ToString("N"));
    private TestCrlServer _server = null!;

    public async Task InitializeAsync() => _server = await TestCrlServer.StartAsync();

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [SkippableFact]
    public async Task GeneratedCrl_ReadAndValidated_TheRevokedSerialListedWithItsReason()
    {
        Requires.Programs("openssl");
        OpenSslCa ca = await OpenSslCa.CreateAsync(_directory, _server.Url);
        using X509Certificate2 good = await ca.IssueClientAsync("good");
        using X509Certificate2 revoked = await ca.IssueClientAsync("revoked");
        await ca.RevokeAsync("revoked");

        ParsedCrl crl = ParsedCrl.Parse(await ca.GenerateCrlAsync());
        using X509Certificate2 issuer = ca.Certificate;

        Assert.Null(CrlValidation.Check(crl, issuer, _server.Url, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5), held: null));
        Assert.Equal(new BigInteger(1), crl.Number);
        Assert.Equal(1, crl.Revoked.Count);
        Assert.True(crl.Revoked.TryFind(revoked.SerialNumberBytes.Span, out DateTimeOffset at, out OcspRevocationReason? reason));
        Assert.Equal(OcspRevocationReason.KeyCompromise, reason);
        Assert.InRange(at, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1));
        Assert.False(crl.Revoked.TryFind(good.SerialNumberBytes.Span, out _, out _));
        Assert.Equal([_server.Url], CrlDistributionPoints.Of(good));

        // The next CRL counts up; the first one is then older.
        ParsedCrl next = ParsedCrl.Parse(await ca.GenerateCrlAsync());
        Assert.Equal(new BigInteger(2), next.Number);
        Assert.Contains("lower than the held CRL's 2", CrlValidation.Check(crl, issuer, _server.Url, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5), next), StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task ClientCertificates_OfTheOpenSslCa_DecidedByItsCrlOverHttp()
    {
        Requires.Programs("openssl");
        OpenSslCa ca = await OpenSslCa.CreateAsync(_directory, _server.Url);
        using X509Certificate2 good = await ca.IssueClientAsync("client-good");
        using X509Certificate2 revoked = await ca.IssueClientAsync("client-revoked");
        await ca.RevokeAsync("client-revoked");
        _server.Crl = await ca.GenerateCrlAsync();
        using X509Certificate2 issuer = ca.Certificate;
        using var host = new ProviderHost(TimeProvider.System, b => b.UseMemoryOnly());
        OcspClientCertificateValidator validator = host.Services.GetRequiredService<OcspClientCertificateValidator>();

        OcspClientCertificateDecision accepted = await validator.CheckAsync([good, issuer], new OcspClientCertificatePolicy());
        OcspClientCertificateDecision refused = await validator.CheckAsync([revoked, issuer], new OcspClientCertificatePolicy { FailureMode = OcspClientFailureMode.FailOpen });

        Assert.True(accepted.IsAccepted, accepted.Message);
        Assert.Equal(OcspRevocationSource.Crl, accepted.Source);
        Assert.False(refused.IsAccepted, refused.Message);
        Assert.Equal(OcspClientCertificateReason.Revoked, refused.Reason);
        Assert.Equal(1, _server.RequestCount);
    }
}
