using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Authentication.Certificate;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Ocsp.Stapling.Internal;
using Ocsp.Stapling.Testing;
using Xunit.Abstractions;

namespace Ocsp.Stapling.AspNetCore.Tests.Kestrel;

/// <summary>
/// Client certificates (mTLS) at Kestrel's TLS level, against a real Kestrel with real clients (<c>openssl s_client
/// -cert/-key</c> and a .NET <see cref="HttpClient"/>), a responder that says good, revoked or unknown, is down or answers
/// garbage, and both policies: a certificate never seen is decided by the failure mode, its later handshakes by the answer.
/// </summary>
public sealed class ClientCertificateTests(KestrelFixture fixture, ITestOutputHelper output) : ClientCertificateTestBase(fixture), IClassFixture<KestrelFixture>
{
    /// <summary>The acceptance table at the TLS level: (first handshake of a certificate never seen, later handshakes).</summary>
    [SkippableTheory]
    [InlineData(Answer.Good, OcspClientFailureMode.FailClosed, false, true)]
    [InlineData(Answer.Good, OcspClientFailureMode.FailOpen, true, true)]
    [InlineData(Answer.Revoked, OcspClientFailureMode.FailClosed, false, false)]
    [InlineData(Answer.Revoked, OcspClientFailureMode.FailOpen, true, false)]
    [InlineData(Answer.Unknown, OcspClientFailureMode.FailClosed, false, false)]
    [InlineData(Answer.Unknown, OcspClientFailureMode.FailOpen, true, false)]
    [InlineData(Answer.Down, OcspClientFailureMode.FailClosed, false, false)]
    [InlineData(Answer.Down, OcspClientFailureMode.FailOpen, true, true)]
    [InlineData(Answer.Garbage, OcspClientFailureMode.FailClosed, false, false)]
    [InlineData(Answer.Garbage, OcspClientFailureMode.FailOpen, true, true)]
    public async Task TlsLevel_OpenSslAndHttpClient_AcceptedOrRejectedAsThePolicyAndTheAnswerSay(Answer answer, OcspClientFailureMode mode, bool first, bool later)
    {
        Requires.Programs("openssl");
        (X509Certificate2 client, string certificateFile, string keyFile) = NewClient($"tls-{answer}-{mode}");
        await using StaplingServer server = await StartTlsCheckingAsync(new OcspClientCertificatePolicy { FailureMode = mode });
        Answering(client, answer);
        var validator = server.Services.GetRequiredService<ClientCertificateValidator>();

        bool firstByOpenSsl = await OpenSslAcceptedAsync(server.Port, certificateFile, keyFile);
        await validator.WhenAnsweredAsync([client, Fixture.Pki.Intermediate, Fixture.Pki.Root]);
        bool laterByOpenSsl = await OpenSslAcceptedAsync(server.Port, certificateFile, keyFile);
        bool laterByHttpClient = await HttpClientAcceptedAsync(server.Port, client);

        output.WriteLine($"{answer}, {mode}: first {firstByOpenSsl}, later {laterByOpenSsl} (openssl) / {laterByHttpClient} (HttpClient)");
        Assert.Equal((first, later, later), (firstByOpenSsl, laterByOpenSsl, laterByHttpClient));
        OcspClientCertificateState state = Assert.Single(validator.GetStates(), s => s.Certificate.SerialNumber == client.SerialNumber);
        Assert.Equal(later, state.LastDecision!.IsAccepted);
        Assert.Contains(validator.GetStates(), s => s.Certificate.SerialNumber == Fixture.Pki.Intermediate.SerialNumber); // its CA is checked too
    }

    [Fact]
    public async Task TlsLevel_NoClientCertificate_IsRefused_AndAForeignOneToo()
    {
        await using StaplingServer server = await StartTlsCheckingAsync(new OcspClientCertificatePolicy { FailureMode = OcspClientFailureMode.FailOpen });
        using var foreignKey = System.Security.Cryptography.ECDsa.Create();
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=foreign", foreignKey, System.Security.Cryptography.HashAlgorithmName.SHA256);
        using X509Certificate2 foreign = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));

        Assert.False(await HttpClientAcceptedAsync(server.Port, null));
        Assert.False(await HttpClientAcceptedAsync(server.Port, foreign));
        Assert.Contains(server.Logs.Entries, e => e.EventId == 163 && e.Message.Contains("its chain does not reach a configured client CA", StringComparison.Ordinal));
        Assert.Equal(1, Fixture.Responder.RequestCount); // the server certificate's staple only
    }

    [Fact]
    public async Task TlsLevel_AForeignClientCertificateNamingIssuerUrls_FetchesNothing_IsRefusedInTime_GoodClientsAreServedMeanwhile()
    {
        await using var stalling = new CountingListener { Silent = true };
        X509Certificate2 foreign = Fixture.Pki.IssueForeignClient("foreign with AIA", stalling.Url("issuer.crt"), stalling.Url("ocsp"));
        (X509Certificate2 good, _, _) = NewClient("good-beside-foreign");
        await using StaplingServer server = await StartTlsCheckingAsync(new OcspClientCertificatePolicy());
        Assert.False(await HandshakeAsync(server.Port, good)); // never seen, fail-closed: refused while its responder is asked
        await server.Services.GetRequiredService<ClientCertificateValidator>().WhenAnsweredAsync([good, Fixture.Pki.Intermediate, Fixture.Pki.Root]);

        // 50 at once, while a good client connects: every one refused without a connection to where it points, before the handshake bound.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Task<bool>[] attacks = [.. Enumerable.Range(0, 50).Select(_ => HandshakeAsync(server.Port, foreign))];
        bool goodServed = await HandshakeAsync(server.Port, good);
        bool[] refused = await Task.WhenAll(attacks);
        TimeSpan took = clock.Elapsed;

        output.WriteLine($"50 foreign handshakes refused in {took.TotalMilliseconds:0} ms; connections to the stalling host: {stalling.Connections}");
        Assert.All(refused, accepted => Assert.False(accepted));
        Assert.True(goodServed);
        Assert.Equal(0, stalling.Connections);
        Assert.True(took < TimeSpan.FromSeconds(10), $"{took}: past the 10 s handshake bound"); // a fetch would have held each handshake 15 s
        LogEntry refusal = Assert.Single(server.Logs.Entries, e => e.EventId == 163 && e.Level == LogLevel.Warning);
        Assert.Contains("its chain does not reach a configured client CA: PartialChain", refusal.Message, StringComparison.Ordinal);
        Assert.Contains(foreign.SerialNumber, refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TlsLevel_AThousandHandshakesOfOneClientCertificate_CauseOneUpstreamRequest()
    {
        (X509Certificate2 client, _, _) = NewClient("thousand");
        await using StaplingServer server = await StartTlsCheckingAsync(new OcspClientCertificatePolicy());
        var validator = server.Services.GetRequiredService<ClientCertificateValidator>();
        OcspCertificateId id = OcspCertificateId.Create(client, Fixture.Pki.Intermediate);

        Assert.False(await HandshakeAsync(server.Port, client)); // never seen, fail-closed: refused, asked in the background
        await validator.WhenAnsweredAsync([client, Fixture.Pki.Intermediate, Fixture.Pki.Root]);
        int accepted = 0;
        await Parallel.ForAsync(0, 1000, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (_, _) =>
        {
            if (await HandshakeAsync(server.Port, client))
            {
                Interlocked.Increment(ref accepted);
            }
        });

        Assert.Equal(1000, accepted);
        Assert.Equal(1, Fixture.Responder.ReceivedCertificateIds.Count(received => received.Equals(id)));
    }

    [Fact]
    public async Task StatusPage_ListsClientCertificatesInTheirOwnSection()
    {
        (X509Certificate2 client, _, _) = NewClient("status");
        Answering(client, Answer.Revoked);
        await using StaplingServer server = await StaplingServer.StartAsync(
            Time,
            Path.Combine(WorkDirectory, "cache"),
            listen => listen.UseHttpsWithOcspStapling(Fixture.NewLeaf("status-server"), Fixture.Chain, https =>
            {
                https.ClientCertificates.Mode = ClientCertificateMode.AllowCertificate;
                https.ClientCertificates.Authorities.Add(Fixture.Pki.Root);
                https.ClientCertificates.Authorities.Add(Fixture.Pki.Intermediate);
                https.ClientCertificates.Revocation = new OcspClientCertificatePolicy();
            }),
            map: app => app.MapOcspStaplingStatus("/ocsp-status"));
        await HandshakeAsync(server.Port, client);
        await server.Services.GetRequiredService<ClientCertificateValidator>().WhenAnsweredAsync([client, Fixture.Pki.Intermediate, Fixture.Pki.Root]);
        await HandshakeAsync(server.Port, client);

        (_, string json) = await GetAsync(server.Port, null, "/ocsp-status?format=json");
        (_, string html) = await GetAsync(server.Port, null, "/ocsp-status", accept: "text/html");

        using var document = System.Text.Json.JsonDocument.Parse(json);
        System.Text.Json.JsonElement[] entries = [.. document.RootElement.GetProperty("clientCertificates").EnumerateArray()];
        Assert.Equal(2, entries.Length); // the client certificate and its CA, both checked
        System.Text.Json.JsonElement entry = Assert.Single(entries, e => e.GetProperty("serialNumber").GetString() == client.SerialNumber);
        Assert.Equal(client.SerialNumber, entry.GetProperty("serialNumber").GetString());
        Assert.Equal("Revoked", entry.GetProperty("response").GetProperty("status").GetString());
        Assert.False(entry.GetProperty("lastDecision").GetProperty("accepted").GetBoolean());
        Assert.Single(document.RootElement.GetProperty("certificates").EnumerateArray()); // the server certificate only
        Assert.Contains("id=\"client-certificates\"", html, StringComparison.Ordinal);
        Assert.Contains($"data-serial=\"{client.SerialNumber}\"", html, StringComparison.Ordinal);
    }
}
