using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using Ocsp.Stapling.Testing;
using Xunit.Abstractions;

namespace Ocsp.Stapling.Tool.Tests.Commands;

/// <summary>
/// <c>serve --ca</c> with its defaults, as a process on the real clock, flooded with junk serials from one address
/// (issue 34): another client's new real certificate is answered good, the responder hears from the flooder at most at
/// its per-client rate, nothing junk reaches the store, and the log stays quiet (its bytes per request are reported).
/// </summary>
public sealed class ServeFloodTests(ToolFixture fixture, ITestOutputHelper output) : IClassFixture<ToolFixture>
{
    private const double ClientRate = 5; // serve's --max-forwards-per-second-per-client default

    [Fact]
    public async Task Serve_Ca_Defaults_JunkFloodFromOneAddress_RealCertificateFromAnother_IsGood_StoreHoldsOnlyIt_LogStaysQuiet()
    {
        LeafFiles site = fixture.NewLeaf("serve-flood");
        OcspCertificateId realId = OcspCertificateId.Create(site.Certificate, fixture.Pki.Intermediate);
        string cache = Path.Combine(site.Directory, "cache");
        fixture.Responder.IssuedSerials = new HashSet<string>([realId.SerialNumberHex], StringComparer.Ordinal);
        try
        {
            await using ServeProcess proxy = await ServeProcess.StartAsync(
                requestLines: false, "--cache", cache, "--ca", fixture.IssuerFile, "--allow-responder", fixture.Responder.Url.AbsoluteUri);
            using HttpClient flooder = SourceAddressClient.Create(IPAddress.Parse("127.0.0.2"));
            using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            int before = fixture.Responder.RequestCount;
            int logBefore = proxy.Output.Length;
            const int Junk = 4000;
            var answers = new int[2]; // tryLater, unknown

            var watch = Stopwatch.StartNew();
            Task flood = Parallel.ForAsync(0, Junk, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (_, token) =>
            {
                using HttpResponseMessage response = await PostAsync(flooder, proxy, JunkSerials.RequestLike(realId), token);
                OcspResponse parsed = OcspResponse.Parse(await response.Content.ReadAsByteArrayAsync(token));
                Assert.True(
                    parsed.Status == OcspResponseStatus.TryLater || (parsed.Status == OcspResponseStatus.Successful && parsed.Responses[0].Status == OcspCertificateStatus.Unknown),
                    $"{parsed.Status}");
                Interlocked.Increment(ref answers[parsed.Status == OcspResponseStatus.TryLater ? 0 : 1]);
            });

            await fixture.Responder.WhenRequestCountAsync(before + 3); // the flood has reached the responder
            using (HttpResponseMessage real = await PostAsync(client, proxy, OcspRequest.Create(site.Certificate, fixture.Pki.Intermediate).Encoded.ToArray(), CancellationToken.None))
            {
                byte[] body = await real.Content.ReadAsByteArrayAsync();
                OcspValidationResult validation = OcspResponseValidator.Validate(body, site.Certificate, fixture.Pki.Intermediate, TimeProvider.System.GetUtcNow());
                Assert.True(validation.IsValid, validation.Message);
                Assert.Equal(OcspCertificateStatus.Good, validation.Staple.Status);
            }

            Assert.False(flood.IsCompleted, "the flood ended before the real request: it proves nothing"); // 4,000 requests last longer than one
            await flood;
            double seconds = watch.Elapsed.TotalSeconds;
            int junkUpstream = fixture.Responder.ReceivedCertificateIds.Count(id => !id.Equals(realId));
            string log = proxy.Output[logBefore..];
            output.WriteLine(
                $"{Junk} junk requests in {seconds:0.0} s: {answers[0]} tryLater, {answers[1]} unknown; {junkUpstream} reached the responder; "
                + $"log {log.Length} bytes ({(double)log.Length / (Junk + 1):0.00} bytes per request):\n{log}");

            Assert.Equal(answers[1], junkUpstream); // each unknown answer is one upstream request, relayed
            Assert.InRange(junkUpstream, 1, (int)Math.Ceiling(seconds * ClientRate) + (int)ClientRate); // the client's rate, plus its one-second bucket
            Assert.Single(Directory.EnumerateFiles(cache, "*.entry")); // the real certificate's, nothing junk
            Assert.True(log.Length < Junk, $"{log.Length} bytes of log for {Junk} requests"); // under a byte per request
            Assert.DoesNotContain("fail:", proxy.Output, StringComparison.Ordinal);
            Assert.True(await proxy.StopAsync() == 0, proxy.Output);
        }
        finally
        {
            fixture.Responder.IssuedSerials = null;
        }
    }

    private async Task<HttpResponseMessage> PostAsync(HttpClient client, ServeProcess proxy, byte[] der, CancellationToken cancellationToken)
    {
        var content = new ByteArrayContent(der);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/ocsp-request");
        using var request = new HttpRequestMessage(HttpMethod.Post, proxy.Url) { Content = content };
        request.Headers.Host = fixture.Responder.Url.Authority;
        HttpResponseMessage response = await client.SendAsync(request, cancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return response;
    }
}
