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

namespace Ocsp.Stapling.AspNetCore.Tests.Authentication;

/// <summary>
/// Client certificates in ASP.NET Core's certificate authentication with <c>CheckOcspRevocation</c>: the first request
/// of a certificate waits for the answer, and a two-level CA's chain is completed from the CA file given.
/// </summary>
public sealed class CertificateAuthenticationTests(KestrelFixture fixture, ITestOutputHelper output) : ClientCertificateTestBase(fixture), IClassFixture<KestrelFixture>
{
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
            Time,
            Path.Combine(WorkDirectory, "cache"),
            listen => listen.UseHttpsWithOcspStapling(Fixture.NewLeaf("auth-server"), Fixture.Chain, https =>
            {
                https.ClientCertificates.Mode = ClientCertificateMode.RequireCertificate; // the chain at the TLS level; revocation in authentication
                https.ClientCertificates.Authorities.Add(Fixture.Pki.Root);
                https.ClientCertificates.Authorities.Add(Fixture.Pki.Intermediate);
            }),
            services: services =>
            {
                services.AddAuthentication(CertificateAuthenticationDefaults.AuthenticationScheme).AddCertificate(options =>
                {
                    options.AllowedCertificateTypes = CertificateTypes.Chained;
                    options.ChainTrustValidationMode = X509ChainTrustMode.CustomRootTrust;
                    options.CustomTrustStore.Add(Fixture.Pki.Root);
                    options.AdditionalChainCertificates.Add(Fixture.Pki.Intermediate);
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
        X509Certificate2 issuing = Fixture.Pki.IssueCa($"Issuing CA {caFileGiven}", Fixture.Pki.Root, Fixture.Responder.Url);
        Fixture.Responder.AddIssuer(issuing);
        X509Certificate2 client = Fixture.Pki.IssueClient($"client two-level {caFileGiven}", Fixture.Responder.Url, issuing);
        X509Certificate2Collection clientCas = [Fixture.Pki.Root, issuing];
        await using StaplingServer server = await StaplingServer.StartAsync(
            Time,
            Path.Combine(WorkDirectory, "cache-two-level-" + caFileGiven),
            listen => listen.UseHttpsWithOcspStapling(Fixture.NewLeaf("two-level-server"), Fixture.Chain, https =>
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
                        options.CustomTrustStore.Add(Fixture.Pki.Root); // the root only: the handler cannot complete the chain
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
            Assert.Contains(Fixture.Responder.ReceivedCertificateIds, id => id.Equals(OcspCertificateId.Create(issuing, Fixture.Pki.Root))); // the intermediate was checked
        }
    }
}
