using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Ocsp.Stapling.AspNetCore.Internal;
using Ocsp.Stapling.Internal;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.AspNetCore.Tests.Kestrel;

/// <summary>
/// Client certificates of a CA that publishes a CRL and runs no OCSP responder, at Kestrel's TLS level with real clients
/// (issue 42): the first handshake of a certificate never seen is decided by the failure mode while the CRL is fetched,
/// the next ones by the CRL (good accepted, listed refused), every handshake of every certificate of the CA costs one
/// fetch in all, and the CRL held keeps deciding while its server is down.
/// </summary>
public sealed class ClientCrlTlsTests(KestrelFixture fixture) : ClientCertificateTestBase(fixture), IClassFixture<KestrelFixture>, IAsyncLifetime
{
    private TestCrlServer _crl = null!;

    public async Task InitializeAsync() => _crl = await TestCrlServer.StartAsync();

    public async Task DisposeAsync() => await _crl.DisposeAsync();

    [SkippableFact]
    public async Task TlsLevel_CrlOnlyClients_FirstByTheFailureMode_ThenByTheCrl_OneFetch_HeldWhileItsServerIsDown()
    {
        Requires.Programs("openssl");
        (X509Certificate2 good, string goodFile, string goodKey) = NewClient("crl-tls-good", _crl.Url);
        (X509Certificate2 revoked, string revokedFile, string revokedKey) = NewClient("crl-tls-revoked", _crl.Url);
        _crl.Crl = TestCrls.Build(Fixture.Pki.Intermediate, 1, Time.GetUtcNow().AddHours(-1), Time.GetUtcNow().AddDays(1), revoked);
        await using StaplingServer server = await StartTlsCheckingAsync(new OcspClientCertificatePolicy());
        var validator = server.Services.GetRequiredService<ClientCertificateValidator>();

        bool first = await OpenSslAcceptedAsync(server.Port, goodFile, goodKey); // never seen, fail-closed: refused while the CRL is fetched
        await validator.WhenAnsweredAsync([good, Fixture.Pki.Intermediate, Fixture.Pki.Root]);
        bool[] goodLater = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => OpenSslAcceptedAsync(server.Port, goodFile, goodKey)));
        bool[] revokedLater = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => OpenSslAcceptedAsync(server.Port, revokedFile, revokedKey)));
        bool byHttpClient = await HttpClientAcceptedAsync(server.Port, good);

        Assert.False(first);
        Assert.All(goodLater, Assert.True);
        Assert.All(revokedLater, Assert.False);
        Assert.True(byHttpClient);
        Assert.Equal(1, _crl.RequestCount);
        OcspClientCertificateState state = Assert.Single(validator.GetStates(), s => s.Certificate.SerialNumber == revoked.SerialNumber);
        Assert.Equal((false, OcspRevocationSource.Crl), (state.LastDecision!.IsAccepted, state.LastDecision.Source));
        Assert.Equal(1, Assert.Single(validator.GetCrlStates()).Entries);

        // The status page's JSON and HTML show the CRL held, and the decision's source.
        OcspStaplingStatusReport report = OcspStaplingStatusReport.Create(
            server.Services.GetRequiredService<OcspCertificateRegistry>().GetStates(), null, Time, TimeSpan.FromDays(1), HealthStatus.Unhealthy, validator);
        using var json = new MemoryStream();
        await using (var writer = new Utf8JsonWriter(json))
        {
            await report.WriteJsonAsync(writer, CancellationToken.None);
        }

        using JsonDocument document = JsonDocument.Parse(json.ToArray());
        JsonElement crl = Assert.Single(document.RootElement.GetProperty("crls").EnumerateArray().ToArray());
        Assert.Equal((_crl.Url.AbsoluteUri, "1", 1), (crl.GetProperty("url").GetString(), crl.GetProperty("number").GetString(), crl.GetProperty("entries").GetInt32()));
        Assert.Equal(Fixture.Pki.Intermediate.Subject, crl.GetProperty("issuer").GetString());
        Assert.Contains(
            document.RootElement.GetProperty("clientCertificates").EnumerateArray(),
            c => c.GetProperty("serialNumber").GetString() == revoked.SerialNumber && c.GetProperty("lastDecision").GetProperty("source").GetString() == "Crl");
        Assert.Contains("id=\"crls\"", OcspStaplingStatusPage.Render(report), StringComparison.Ordinal);

        _crl.Down = true;
        Assert.True(await OpenSslAcceptedAsync(server.Port, goodFile, goodKey));
        Assert.False(await OpenSslAcceptedAsync(server.Port, revokedFile, revokedKey));
        Assert.Equal(1, _crl.RequestCount);
    }
}
