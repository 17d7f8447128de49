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
/// Client certificates (mTLS) against a real Kestrel, with real clients (<c>openssl s_client -cert/-key</c> and a .NET
/// <see cref="HttpClient"/>), a responder that says good, revoked or unknown, is down or answers garbage, and both
/// policies: at the TLS level (a certificate never seen is decided by the failure mode, its later handshakes by the
/// answer) and in certificate authentication (the first request waits for the answer).
/// </summary>
public sealed class ClientCertificateTests(KestrelFixture fixture, ITestOutputHelper output) : IClassFixture<KestrelFixture>, IDisposable
{
    private readonly FakeTimeProvider _time = fixture.Reset();
    private readonly string _directory = Directory.CreateTempSubdirectory("ocsp-mtls-").FullName;

    public enum Answer
    {
        Good,
        Revoked,
        Unknown,
        Down,
        Garbage,
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

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
        await validator.WhenAnsweredAsync([client, fixture.Pki.Intermediate, fixture.Pki.Root]);
        bool laterByOpenSsl = await OpenSslAcceptedAsync(server.Port, certificateFile, keyFile);
        bool laterByHttpClient = await HttpClientAcceptedAsync(server.Port, client);

        output.WriteLine($"{answer}, {mode}: first {firstByOpenSsl}, later {laterByOpenSsl} (openssl) / {laterByHttpClient} (HttpClient)");
        Assert.Equal((first, later, later), (firstByOpenSsl, laterByOpenSsl, laterByHttpClient));
        OcspClientCertificateState state = Assert.Single(validator.GetStates(), s => s.Certificate.SerialNumber == client.SerialNumber);
        Assert.Equal(later, state.LastDecision!.IsAccepted);
        Assert.Contains(validator.GetStates(), s => s.Certificate.SerialNumber == fixture.Pki.Intermediate.SerialNumber); // its CA is checked too
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
        Assert.Equal(1, fixture.Responder.RequestCount); // the server certificate's staple only
    }

    [Fact]
    public async Task TlsLevel_AForeignClientCertificateNamingIssuerUrls_FetchesNothing_IsRefusedInTime_GoodClientsAreServedMeanwhile()
    {
        await using var stalling = new CountingListener { Silent = true };
        X509Certificate2 foreign = fixture.Pki.IssueForeignClient("foreign with AIA", stalling.Url("issuer.crt"), stalling.Url("ocsp"));
        (X509Certificate2 good, _, _) = NewClient("good-beside-foreign");
        await using StaplingServer server = await StartTlsCheckingAsync(new OcspClientCertificatePolicy());
        Assert.False(await HandshakeAsync(server.Port, good)); // never seen, fail-closed: refused while its responder is asked
        await server.Services.GetRequiredService<ClientCertificateValidator>().WhenAnsweredAsync([good, fixture.Pki.Intermediate, fixture.Pki.Root]);

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
        OcspCertificateId id = OcspCertificateId.Create(client, fixture.Pki.Intermediate);

        Assert.False(await HandshakeAsync(server.Port, client)); // never seen, fail-closed: refused, asked in the background
        await validator.WhenAnsweredAsync([client, fixture.Pki.Intermediate, fixture.Pki.Root]);
        int accepted = 0;
        await Parallel.ForAsync(0, 1000, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (_, _) =>
        {
            if (await HandshakeAsync(server.Port, client))
            {
                Interlocked.Increment(ref accepted);
            }
        });

        Assert.Equal(1000, accepted);
        Assert.Equal(1, fixture.Responder.ReceivedCertificateIds.Count(received => received.Equals(id)));
    }

    /// <summary>Certificate authentication: the check runs in the asynchronous event, so the first request is decided by the answer.</summary>
    [Theory]
    [InlineData(Answer.Good, OcspClientFailureMode.FailClosed, true)]
    [InlineData(Answer.Revoked, OcspClientFailureMode.FailClosed, false)]
    [InlineData(Answer.Revoked, OcspClientFailureMode.FailOpen, false)]
    [InlineData(Answer.Unknown, OcspClientFailureMode.FailClosed, false)]
    [InlineData(Answer.Unknown, OcspClientFailureMode.FailOpen, false)]
    [InlineData(Answer.Down, OcspClientFailureMode.FailClosed, false)]
    [InlineData(Answer.Down, OcspClientFailureMode.FailOpen, true)]
    [InlineData(Answer.Garbage, OcspClientFailureMode.FailClosed, false)]
    [InlineData(Answer.Garbage, OcspClientFailureMode.FailOpen, true)]
    public async Task CertificateAuthentication_FirstRequestDecidedByTheAnswer(Answer answer, OcspClientFailureMode mode, bool accepted)
    {
        (X509Certificate2 client, _, _) = NewClient($"auth-{answer}-{mode}");
        var policy = new OcspClientCertificatePolicy { FailureMode = mode };
        await using StaplingServer server = await StaplingServer.StartAsync(
            _time,
            Path.Combine(_directory, "cache"),
            listen => listen.UseHttpsWithOcspStapling(fixture.NewLeaf("auth-server"), fixture.Chain, https =>
            {
                https.ClientCertificates.Mode = ClientCertificateMode.RequireCertificate; // the chain at the TLS level; revocation in authentication
                https.ClientCertificates.Authorities.Add(fixture.Pki.Root);
                https.ClientCertificates.Authorities.Add(fixture.Pki.Intermediate);
            }),
            services: services =>
            {
                services.AddAuthentication(CertificateAuthenticationDefaults.AuthenticationScheme).AddCertificate(options =>
                {
                    options.AllowedCertificateTypes = CertificateTypes.Chained;
                    options.ChainTrustValidationMode = X509ChainTrustMode.CustomRootTrust;
                    options.CustomTrustStore.Add(fixture.Pki.Root);
                    options.AdditionalChainCertificates.Add(fixture.Pki.Intermediate);
                    options.CheckOcspRevocation(policy);
                });
                services.AddAuthorization();
            },
            map: app => app.MapGet("/secure", (HttpContext context) => $"hello {context.User.Identity?.Name}").RequireAuthorization());
        Answering(client, answer);

        (HttpStatusCode status, string body) = await GetAsync(server.Port, client, "/secure");

        output.WriteLine($"{answer}, {mode}: HTTP {(int)status} {body}");
        Assert.Equal(accepted, status == HttpStatusCode.OK);
        Assert.Equal(accepted ? HttpStatusCode.OK : HttpStatusCode.Forbidden, status);
        if (!accepted)
        {
            Assert.Contains(server.Logs.Entries, e => e.EventId == 164 && e.Message.Contains("rejected", StringComparison.Ordinal));
        }
    }

    /// <summary>
    /// The usual private PKI: a root and an issuing intermediate, clients sending their certificate with the intermediate.
    /// Certificate authentication does not see what the client sent: with the CA file given to <c>CheckOcspRevocation</c>
    /// it completes the chain itself; without it, it cannot.
    /// </summary>
    [Theory]
    [InlineData(true, HttpStatusCode.OK)]
    [InlineData(false, HttpStatusCode.Forbidden)]
    public async Task CertificateAuthentication_TwoLevelCa_TheCaFileGivenToCheckOcspRevocation_CompletesTheChain(bool caFileGiven, HttpStatusCode expected)
    {
        X509Certificate2 issuing = fixture.Pki.IssueCa($"Issuing CA {caFileGiven}", fixture.Pki.Root, fixture.Responder.Url);
        fixture.Responder.AddIssuer(issuing);
        X509Certificate2 client = fixture.Pki.IssueClient($"client two-level {caFileGiven}", fixture.Responder.Url, issuing);
        X509Certificate2Collection clientCas = [fixture.Pki.Root, issuing];
        await using StaplingServer server = await StaplingServer.StartAsync(
            _time,
            Path.Combine(_directory, "cache-two-level-" + caFileGiven),
            listen => listen.UseHttpsWithOcspStapling(fixture.NewLeaf("two-level-server"), fixture.Chain, https =>
            {
                https.ClientCertificates.Mode = ClientCertificateMode.RequireCertificate;
                https.ClientCertificates.Authorities.AddRange(clientCas); // the TLS level: the chain, downloads off
            }),
            services: services =>
            {
                services.AddAuthentication(CertificateAuthenticationDefaults.AuthenticationScheme).AddCertificate(options =>
                {
                    if (caFileGiven)
                    {
                        options.CheckOcspRevocation(new OcspClientCertificatePolicy(), clientCas);
                    }
                    else
                    {
                        options.ChainTrustValidationMode = X509ChainTrustMode.CustomRootTrust;
                        options.CustomTrustStore.Add(fixture.Pki.Root); // the root only: the handler cannot complete the chain
                        options.CheckOcspRevocation(new OcspClientCertificatePolicy());
                    }
                });
                services.AddAuthorization();
            },
            map: app => app.MapGet("/secure", (HttpContext context) => $"hello {context.User.Identity?.Name}").RequireAuthorization());

        (HttpStatusCode status, string body) = await GetAsync(server.Port, client, "/secure", sendChain: [issuing]);

        output.WriteLine($"CA file given: {caFileGiven}: HTTP {(int)status} {body}");
        Assert.Equal(expected, status);
        if (caFileGiven)
        {
            Assert.Contains($"hello {client.GetNameInfo(X509NameType.SimpleName, false)}", body, StringComparison.Ordinal);
            Assert.Contains(fixture.Responder.ReceivedCertificateIds, id => id.Equals(OcspCertificateId.Create(issuing, fixture.Pki.Root))); // the intermediate was checked
        }
    }

    [Fact]
    public async Task StatusPage_ListsClientCertificatesInTheirOwnSection()
    {
        (X509Certificate2 client, _, _) = NewClient("status");
        Answering(client, Answer.Revoked);
        await using StaplingServer server = await StaplingServer.StartAsync(
            _time,
            Path.Combine(_directory, "cache"),
            listen => listen.UseHttpsWithOcspStapling(fixture.NewLeaf("status-server"), fixture.Chain, https =>
            {
                https.ClientCertificates.Mode = ClientCertificateMode.AllowCertificate;
                https.ClientCertificates.Authorities.Add(fixture.Pki.Root);
                https.ClientCertificates.Authorities.Add(fixture.Pki.Intermediate);
                https.ClientCertificates.Revocation = new OcspClientCertificatePolicy();
            }),
            map: app => app.MapOcspStaplingStatus("/ocsp-status"));
        await HandshakeAsync(server.Port, client);
        await server.Services.GetRequiredService<ClientCertificateValidator>().WhenAnsweredAsync([client, fixture.Pki.Intermediate, fixture.Pki.Root]);
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

    private async Task<StaplingServer> StartTlsCheckingAsync(OcspClientCertificatePolicy policy) =>
        await StaplingServer.StartStapledAsync(
            _time,
            Path.Combine(_directory, "cache-" + Guid.NewGuid().ToString("N")),
            fixture.NewLeaf("mtls-server"),
            fixture.Chain,
            configure: https =>
            {
                https.ClientCertificates.Mode = ClientCertificateMode.RequireCertificate;
                https.ClientCertificates.Authorities.Add(fixture.Pki.Root);
                https.ClientCertificates.Authorities.Add(fixture.Pki.Intermediate);
                https.ClientCertificates.Revocation = policy;
            });

    /// <summary>A client certificate (clientAuth) written as PEM.</summary>
    private (X509Certificate2 Certificate, string CertificateFile, string KeyFile) NewClient(string name)
    {
        X509Certificate2 client = fixture.Pki.IssueClient($"client {name}", fixture.Responder.Url);
        string certificateFile = Path.Combine(_directory, name + ".pem");
        string keyFile = Path.Combine(_directory, name + ".key");
        File.WriteAllText(certificateFile, TestPki.ToPem(client));
        File.WriteAllText(keyFile, TestPki.PrivateKeyPem(client));
        return (client, certificateFile, keyFile);
    }

    /// <summary>Sets the responder to give <paramref name="answer"/> for <paramref name="client"/>: after the server's own staple was fetched, so faults reach the client's requests only.</summary>
    private void Answering(X509Certificate2 client, Answer answer)
    {
        switch (answer)
        {
            case Answer.Revoked: fixture.Responder.Revoke(client, _time.GetUtcNow().AddHours(-1)); break;
            case Answer.Unknown: fixture.Responder.Fault = ResponderFault.Unknown; break;
            case Answer.Down: fixture.Responder.Fault = ResponderFault.Down; break;
            case Answer.Garbage: fixture.Responder.Fault = ResponderFault.Garbage; break;
        }
    }

    private async Task<bool> OpenSslAcceptedAsync(int port, string certificateFile, string keyFile)
    {
        ProgramResult result = await ExternalProgram.RunAsync(
            "openssl",
            ["s_client", "-connect", $"127.0.0.1:{port}", "-servername", "mtls-server.test", "-CAfile", fixture.RootFile, "-cert", certificateFile, "-key", keyFile, "-quiet", "-ign_eof"],
            standardInput: "GET / HTTP/1.1\r\nHost: mtls-server.test\r\nConnection: close\r\n\r\n"u8.ToArray(),
            timeout: TimeSpan.FromSeconds(30));
        return result.StandardOutput.Contains("HTTP/1.1 200 OK", StringComparison.Ordinal);
    }

    private async Task<bool> HttpClientAcceptedAsync(int port, X509Certificate2? client)
    {
        try
        {
            (HttpStatusCode status, _) = await GetAsync(port, client, "/");
            return status == HttpStatusCode.OK;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    /// <summary>The server's certificate chains to the test root (its name is the test's, not the one asked for).</summary>
    private bool IssuedByTestRoot(X509Certificate? certificate)
    {
        if (certificate is not X509Certificate2 server)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.CustomTrustStore.Add(fixture.Pki.Root);
        chain.ChainPolicy.ExtraStore.Add(fixture.Pki.Intermediate);
        return chain.Build(server);
    }

    private async Task<(HttpStatusCode Status, string Body)> GetAsync(int port, X509Certificate2? client, string path, string? accept = null, X509Certificate2Collection? sendChain = null)
    {
        using var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, _) => IssuedByTestRoot(certificate),
                ClientCertificates = client is null || sendChain is not null ? null : [client],
                ClientCertificateContext = client is not null && sendChain is not null ? SslStreamCertificateContext.Create(client, sendChain, offline: true) : null,
            },
        };
        using var http = new HttpClient(handler);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"https://127.0.0.1:{port}{path}");
        if (accept is not null)
        {
            request.Headers.Accept.ParseAdd(accept);
        }

        using HttpResponseMessage response = await http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>One TLS handshake with <paramref name="client"/>, then one byte read: a refused certificate ends the connection.</summary>
    private async Task<bool> HandshakeAsync(int port, X509Certificate2 client)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        await using var tls = new SslStream(tcp.GetStream());
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "mtls-server.test",
                RemoteCertificateValidationCallback = (_, certificate, _, _) => IssuedByTestRoot(certificate),

                // Offline: .NET's client would otherwise fetch the issuers its certificate names before sending it.
                ClientCertificateContext = SslStreamCertificateContext.Create(client, null, offline: true),
                ApplicationProtocols = [SslApplicationProtocol.Http11],
            });
            await tls.WriteAsync("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"u8.ToArray());
            byte[] buffer = new byte[16];
            int read = await tls.ReadAsync(buffer);
            return read > 0;
        }
        catch (Exception ex) when (ex is IOException or System.Security.Authentication.AuthenticationException)
        {
            return false;
        }
    }
}
