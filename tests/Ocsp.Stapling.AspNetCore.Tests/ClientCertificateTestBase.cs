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

namespace Ocsp.Stapling.AspNetCore.Tests;

/// <summary>
/// What the client-certificate tests share (Kestrel's TLS-level check in <c>Kestrel/</c>, certificate authentication in
/// <c>Authentication/</c>): clients written as PEM, a responder told what to answer, and real clients (<c>openssl
/// s_client</c>, <see cref="HttpClient"/>, <see cref="SslStream"/>) that send them.
/// </summary>
public abstract class ClientCertificateTestBase : IDisposable
{
    protected ClientCertificateTestBase(KestrelFixture fixture)
    {
        Fixture = fixture;
        Time = fixture.Reset();
    }

    public enum Answer
    {
        Good,
        Revoked,
        Unknown,
        Down,
        Garbage,
    }

    protected KestrelFixture Fixture { get; }

    protected FakeTimeProvider Time { get; }

    protected string WorkDirectory { get; } = Directory.CreateTempSubdirectory("ocsp-mtls-").FullName;

    public void Dispose()
    {
        Directory.Delete(WorkDirectory, recursive: true);
        GC.SuppressFinalize(this);
    }

    private protected async Task<StaplingServer> StartTlsCheckingAsync(OcspClientCertificatePolicy policy) =>
        await StaplingServer.StartStapledAsync(
            Time,
            Path.Combine(WorkDirectory, "cache-" + Guid.NewGuid().ToString("N")),
            Fixture.NewLeaf("mtls-server"),
            Fixture.Chain,
            configure: https =>
            {
                https.ClientCertificates.Mode = ClientCertificateMode.RequireCertificate;
                https.ClientCertificates.Authorities.Add(Fixture.Pki.Root);
                https.ClientCertificates.Authorities.Add(Fixture.Pki.Intermediate);
                https.ClientCertificates.Revocation = policy;
            });

    /// <summary>A client certificate (clientAuth) written as PEM: with the test responder's OCSP URL, or only <paramref name="crlUrl"/> as a CRL distribution point.</summary>
    protected (X509Certificate2 Certificate, string CertificateFile, string KeyFile) NewClient(string name, Uri? crlUrl = null)
    {
        X509Certificate2 client = crlUrl is null ? Fixture.Pki.IssueClient($"client {name}", Fixture.Responder.Url) : Fixture.Pki.IssueClient($"client {name}", null, crlUrl: crlUrl);
        string certificateFile = Path.Combine(WorkDirectory, name + ".pem");
        string keyFile = Path.Combine(WorkDirectory, name + ".key");
        File.WriteAllText(certificateFile, TestPki.ToPem(client));
        File.WriteAllText(keyFile, TestPki.PrivateKeyPem(client));
        return (client, certificateFile, keyFile);
    }

    /// <summary>Sets the responder to give <paramref name="answer"/> for <paramref name="client"/>: after the server's own staple was fetched, so faults reach the client's requests only.</summary>
    protected void Answering(X509Certificate2 client, Answer answer)
    {
        switch (answer)
        {
            case Answer.Revoked: Fixture.Responder.Revoke(client, Time.GetUtcNow().AddHours(-1)); break;
            case Answer.Unknown: Fixture.Responder.Fault = ResponderFault.Unknown; break;
            case Answer.Down: Fixture.Responder.Fault = ResponderFault.Down; break;
            case Answer.Garbage: Fixture.Responder.Fault = ResponderFault.Garbage; break;
        }
    }

    protected async Task<bool> OpenSslAcceptedAsync(int port, string certificateFile, string keyFile)
    {
        ProgramResult result = await ExternalProgram.RunAsync(
            "openssl",
            ["s_client", "-connect", $"127.0.0.1:{port}", "-servername", "mtls-server.test", "-CAfile", Fixture.RootFile, "-cert", certificateFile, "-key", keyFile, "-quiet", "-ign_eof"],
            standardInput: "GET / HTTP/1.1\r\nHost: mtls-server.test\r\nConnection: close\r\n\r\n"u8.ToArray(),
            timeout: TimeSpan.FromSeconds(30));
        return result.StandardOutput.Contains("HTTP/1.1 200 OK", StringComparison.Ordinal);
    }

    protected async Task<bool> HttpClientAcceptedAsync(int port, X509Certificate2? client)
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
    protected bool IssuedByTestRoot(X509Certificate? certificate)
    {
        if (certificate is not X509Certificate2 server)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.CustomTrustStore.Add(Fixture.Pki.Root);
        chain.ChainPolicy.ExtraStore.Add(Fixture.Pki.Intermediate);
        return chain.Build(server);
    }

    protected async Task<(HttpStatusCode Status, string Body)> GetAsync(int port, X509Certificate2? client, string path, string? accept = null, X509Certificate2Collection? sendChain = null)
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
    protected async Task<bool> HandshakeAsync(int port, X509Certificate2 client)
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
