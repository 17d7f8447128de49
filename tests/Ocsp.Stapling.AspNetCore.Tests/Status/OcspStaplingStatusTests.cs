using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Ocsp.Stapling.Internal;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.AspNetCore.Tests.Status;

/// <summary>
/// <c>MapOcspStaplingStatus</c> and <see cref="OcspStaplingHealthResponseWriter"/> (issue 18): the JSON's schema and its
/// values against the provider's state, the HTML page (self-contained, and rendered by headless Chromium), the health
/// writer's per-certificate JSON. Four certificates: one stapled and served by Kestrel, one must-staple whose responder
/// is down (unhealthy), one whose responder is down (degraded), one without a responder.
/// </summary>
public sealed partial class OcspStaplingStatusTests(KestrelFixture fixture) : IClassFixture<KestrelFixture>
{
    private static readonly string[] CertificateProperties =
    [
        "name", "kind", "subject", "issuer", "serialNumber", "thumbprint", "subjectAlternativeNames", "notAfter", "mustStaple", "responders",
        "tlsStapling", "health", "summary", "staple", "refresh",
    ];

    private static readonly string[] StapleProperties =
    [
        "status", "thisUpdate", "nextUpdate", "producedAt", "fetchedAt", "ageSeconds", "remainingSeconds", "validNow", "source",
        "revocationTime", "revocationReason", "responderCertificateNotAfter",
    ];

    private readonly FakeTimeProvider _time = fixture.Reset();

    [Fact]
    public async Task Json_Schema_AndValues_MatchTheProviderState()
    {
        string cache = fixture.NewCacheDirectory();
        Certificates certificates = NewCertificates();
        await using (StaplingServer server = await StartAsync(certificates, cache))
        {
            using HttpResponseMessage response = await GetAsync(server, "/ocsp-status", "application/json");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
            using JsonDocument document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            JsonElement root = document.RootElement;

            Assert.Equal(["generatedAt", "status", "tlsStapling", "certificates", "clientCertificates", "crls"], root.EnumerateObject().Select(p => p.Name));
            Assert.Equal(0, root.GetProperty("clientCertificates").GetArrayLength());
            Assert.Equal(0, root.GetProperty("crls").GetArrayLength());
            Assert.Equal(_time.GetUtcNow(), root.GetProperty("generatedAt").GetDateTimeOffset());
            Assert.Equal("Unhealthy", root.GetProperty("status").GetString()); // the must-staple certificate without a staple
            Assert.True(root.GetProperty("tlsStapling").GetProperty("inUse").GetBoolean());
            Assert.True(root.GetProperty("tlsStapling").GetProperty("supported").GetBoolean());
            Assert.Equal(JsonValueKind.Null, root.GetProperty("tlsStapling").GetProperty("reason").ValueKind);
            Assert.Equal(4, root.GetProperty("certificates").GetArrayLength());

            foreach (JsonElement element in root.GetProperty("certificates").EnumerateArray())
            {
                Assert.Equal(CertificateProperties, element.EnumerateObject().Select(p => p.Name));
                Assert.Equal(["next", "consecutiveFailures", "lastFailure"], element.GetProperty("refresh").EnumerateObject().Select(p => p.Name));
                if (element.GetProperty("staple").ValueKind == JsonValueKind.Object)
                {
                    Assert.Equal(StapleProperties, element.GetProperty("staple").EnumerateObject().Select(p => p.Name));
                }
            }

            // The stapled certificate, against the provider's state.
            OcspCertificateState good = server.Registry.GetState(certificates.Good)!;
            JsonElement stapled = Find(root, certificates.Good);
            Assert.Equal("certificate", stapled.GetProperty("kind").GetString());
            Assert.Equal(certificates.Good.Subject, stapled.GetProperty("subject").GetString());
            Assert.Equal(fixture.Pki.Intermediate.Subject, stapled.GetProperty("issuer").GetString());
            Assert.Equal(good.CertificateId.SerialNumberHex, stapled.GetProperty("serialNumber").GetString());
            Assert.Equal(certificates.Good.Thumbprint, stapled.GetProperty("thumbprint").GetString());
            Assert.Contains(certificates.Good.GetNameInfo(X509NameType.DnsName, false), stapled.GetProperty("subjectAlternativeNames").EnumerateArray().Select(e => e.GetString()));
            Assert.False(stapled.GetProperty("mustStaple").GetBoolean());
            Assert.Equal([fixture.Responder.Url.AbsoluteUri], stapled.GetProperty("responders").EnumerateArray().Select(e => e.GetString()));
            Assert.Equal("on", stapled.GetProperty("tlsStapling").GetString());
            Assert.Equal("Healthy", stapled.GetProperty("health").GetString());
            JsonElement staple = stapled.GetProperty("staple");
            Assert.Equal("Good", staple.GetProperty("status").GetString());
            Assert.Equal(good.Staple!.ThisUpdate, staple.GetProperty("thisUpdate").GetDateTimeOffset());
            Assert.Equal(good.Staple.NextUpdate, staple.GetProperty("nextUpdate").GetDateTimeOffset());
            Assert.Equal(good.Staple.ProducedAt, staple.GetProperty("producedAt").GetDateTimeOffset());
            Assert.Equal((long)(_time.GetUtcNow() - good.Staple.ThisUpdate).TotalSeconds, staple.GetProperty("ageSeconds").GetInt64());
            Assert.Equal((long)(good.Staple.NextUpdate - _time.GetUtcNow()).TotalSeconds, staple.GetProperty("remainingSeconds").GetInt64());
            Assert.True(staple.GetProperty("validNow").GetBoolean());
            Assert.Equal("Responder", staple.GetProperty("source").GetString());
            Assert.Equal(good.NextRefresh, stapled.GetProperty("refresh").GetProperty("next").GetDateTimeOffset());
            Assert.Equal(0, stapled.GetProperty("refresh").GetProperty("consecutiveFailures").GetInt32());
            Assert.Equal(JsonValueKind.Null, stapled.GetProperty("refresh").GetProperty("lastFailure").ValueKind);

            // Must-staple with its responder down: unhealthy, the failure named.
            OcspCertificateState failing = server.Registry.GetState(certificates.MustStapleDown)!;
            JsonElement unhealthy = Find(root, certificates.MustStapleDown);
            Assert.True(unhealthy.GetProperty("mustStaple").GetBoolean());
            Assert.Equal("Unhealthy", unhealthy.GetProperty("health").GetString());
            Assert.Equal("none", unhealthy.GetProperty("tlsStapling").GetString());
            Assert.Equal(JsonValueKind.Null, unhealthy.GetProperty("staple").ValueKind);
            Assert.Equal(failing.ConsecutiveFailures, unhealthy.GetProperty("refresh").GetProperty("consecutiveFailures").GetInt32());
            JsonElement lastFailure = unhealthy.GetProperty("refresh").GetProperty("lastFailure");
            Assert.Equal("ConnectionFailed", lastFailure.GetProperty("reason").GetString());
            Assert.Equal(failing.LastFailure!.Message, lastFailure.GetProperty("message").GetString());
            Assert.Equal(failing.LastFailure!.At, lastFailure.GetProperty("at").GetDateTimeOffset());

            Assert.Equal("Degraded", Find(root, certificates.Down).GetProperty("health").GetString());
            JsonElement none = Find(root, certificates.NoResponder);
            Assert.Equal("Healthy", none.GetProperty("health").GetString());
            Assert.Equal(0, none.GetProperty("responders").GetArrayLength());
        }

        // Restarted on the same store: the staple is the shared store's.
        await using StaplingServer restarted = await StartAsync(certificates, cache);
        using HttpResponseMessage again = await GetAsync(restarted, "/ocsp-status?format=json", "text/html");
        using JsonDocument second = JsonDocument.Parse(await again.Content.ReadAsStringAsync());
        Assert.Equal("SharedStore", Find(second.RootElement, certificates.Good).GetProperty("staple").GetProperty("source").GetString());
    }

    [Fact]
    public async Task Html_ForBrowsers_OneRowPerCertificate_ColouredByHealth_NoExternalAssets()
    {
        Certificates certificates = NewCertificates();
        await using StaplingServer server = await StartAsync(certificates, fixture.NewCacheDirectory());

        using HttpResponseMessage response = await GetAsync(server, "/ocsp-status", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8");
        string html = await response.Content.ReadAsStringAsync();

        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("default-src 'none'", string.Join(' ', response.Headers.GetValues("Content-Security-Policy")), StringComparison.Ordinal);
        Dictionary<string, string> rows = Rows().Matches(html).ToDictionary(m => WebUtility.HtmlDecode(m.Groups["name"].Value), m => m.Groups["health"].Value);
        Assert.Equal(4, rows.Count);
        Assert.Equal("Healthy", rows[CertificateNames.DisplayName(certificates.Good)]);
        Assert.Equal("Unhealthy", rows[CertificateNames.DisplayName(certificates.MustStapleDown)]);
        Assert.Equal("Degraded", rows[CertificateNames.DisplayName(certificates.Down)]);
        Assert.Equal("Healthy", rows[CertificateNames.DisplayName(certificates.NoResponder)]);
        Assert.Contains("class=\"bar\"", html, StringComparison.Ordinal);
        Assert.Contains("class=\"refresh\"", html, StringComparison.Ordinal);
        Assert.DoesNotMatch("(src|href)=", html); // nothing loaded from anywhere
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
    }

    [SkippableFact]
    public async Task Html_RenderedInHeadlessChromium_TheRowsAreInTheDom_ScreenshotKept()
    {
        string? chromium = ExternalProgram.Find("chromium") ?? ExternalProgram.Find("chromium-browser");
        Requires.Programs("chromium");
        Certificates certificates = NewCertificates();
        await using StaplingServer server = await StartAsync(certificates, fixture.NewCacheDirectory());
        string url = $"https://127.0.0.1:{server.Port}/ocsp-status?format=html";
        string profile = Directory.CreateTempSubdirectory("ocsp-chromium-").FullName;
        string[] common = ["--headless", "--no-sandbox", "--disable-gpu", "--ignore-certificate-errors", $"--user-data-dir={profile}", "--window-size=1400,700"];

        ProgramResult dom = await ExternalProgram.RunAsync(chromium!, [.. common, "--dump-dom", url], timeout: TimeSpan.FromSeconds(90));
        Assert.True(dom.ExitCode == 0, dom.ToString());
        MatchCollection rows = Rows().Matches(dom.StandardOutput);
        Assert.Equal(4, rows.Count);
        Assert.Equal(
            new[] { certificates.Good, certificates.MustStapleDown, certificates.Down, certificates.NoResponder }.Select(c => CertificateNames.DisplayName(c)).Order(StringComparer.Ordinal),
            rows.Select(r => WebUtility.HtmlDecode(r.Groups["name"].Value)).Order(StringComparer.Ordinal));
        Assert.Contains("id=\"overall\">Unhealthy<", dom.StandardOutput, StringComparison.Ordinal);

        string screenshot = Path.Combine(ArtifactsDirectory(), "ocsp-stapling-status.png");
        ProgramResult shot = await ExternalProgram.RunAsync(chromium!, [.. common, $"--screenshot={screenshot}", url], timeout: TimeSpan.FromSeconds(90));
        Assert.True(shot.ExitCode == 0 && File.Exists(screenshot), shot.ToString());
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47 }, File.ReadAllBytes(screenshot)[..4]);
    }

    [Fact]
    public async Task ManyCertificates_WorstFirst_HtmlShows500_JsonStreamsAll()
    {
        X509Certificate2 leaf = fixture.NewLeaf("status-many");
        OcspCertificateId id = OcspCertificateId.Create(leaf, fixture.Pki.Intermediate);
        Uri responder = fixture.Responder.Url;
        OcspCertificateState[] states =
        [
            .. Enumerable.Range(0, 590).Select(_ => TestStates.Of(null, id, fixture.Pki.Intermediate, [])),
            .. Enumerable.Range(0, 10).Select(_ => TestStates.Of(
                null, id, fixture.Pki.Intermediate, [responder], new OcspFailure(OcspFailureReason.Timeout, "slow", OcspValidationFailure.None, _time.GetUtcNow(), responder), 1)),
        ];

        var report = Internal.OcspStaplingStatusReport.Create(states, contexts: null, _time, TimeSpan.FromDays(1), Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Unhealthy);
        string html = Internal.OcspStaplingStatusPage.Render(report);
        using var json = new MemoryStream();
        await using (var writer = new Utf8JsonWriter(json))
        {
            await report.WriteJsonAsync(writer, CancellationToken.None);
        }

        string[] health = [.. Rows().Matches(html).Select(m => m.Groups["health"].Value)];
        Assert.Equal(500, health.Length);
        Assert.All(health[..10], h => Assert.Equal("Degraded", h));
        Assert.All(health[10..], h => Assert.Equal("Healthy", h));
        Assert.Contains("100 more certificate(s) not shown", html, StringComparison.Ordinal);
        using JsonDocument document = JsonDocument.Parse(json.ToArray());
        Assert.Equal(600, document.RootElement.GetProperty("certificates").GetArrayLength());
        Assert.Equal("Degraded", document.RootElement.GetProperty("certificates")[0].GetProperty("health").GetString());
    }

    [Fact]
    public async Task HealthResponseWriter_PerCertificateJson_503WhenUnhealthy()
    {
        Certificates certificates = NewCertificates();
        await using StaplingServer server = await StartAsync(certificates, fixture.NewCacheDirectory());

        using HttpResponseMessage response = await GetAsync(server, "/health", "application/json");
        using JsonDocument document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        JsonElement root = document.RootElement;

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("Unhealthy", root.GetProperty("status").GetString());
        JsonElement check = Assert.Single(root.GetProperty("checks").EnumerateArray());
        Assert.Equal("ocsp-stapling", check.GetProperty("name").GetString());
        Assert.Equal("Unhealthy", check.GetProperty("status").GetString());
        Assert.Contains("MUST-STAPLE certificate without a valid staple", check.GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Equal("on", check.GetProperty("data").GetProperty("tls-stapling").GetString());
        JsonElement stapling = root.GetProperty("ocspStapling");
        Assert.Equal(4, stapling.GetProperty("certificates").GetArrayLength());
        Assert.Equal("Good", Find(stapling, certificates.Good).GetProperty("staple").GetProperty("status").GetString());
    }

    private static JsonElement Find(JsonElement root, X509Certificate2 certificate) =>
        root.GetProperty("certificates").EnumerateArray().Single(e => e.GetProperty("name").GetString() == CertificateNames.DisplayName(certificate));

    private static string ArtifactsDirectory()
    {
        string directory = Environment.GetEnvironmentVariable("OCSP_STAPLING_TEST_ARTIFACTS") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Path.GetTempPath(), "ocsp-stapling-test-artifacts");
        Directory.CreateDirectory(directory);
        return directory;
    }

    private Certificates NewCertificates()
    {
        var down = new Uri($"http://127.0.0.1:{StaplingServer.FreePort()}/ocsp"); // nothing listens there
        return new Certificates(
            fixture.NewLeaf("status-good"),
            fixture.Pki.IssueLeaf($"status-must-staple-{Guid.NewGuid():N}.test", down, mustStaple: true),
            fixture.Pki.IssueLeaf($"status-down-{Guid.NewGuid():N}.test", down),
            fixture.NewLeaf("status-none", withOcspUrl: false));
    }

    /// <summary>
    /// Safe by default: the page and the health writer's per-certificate document show what the server holds, so a caller
    /// from elsewhere gets 403 (the page) or the bare health report (the writer), unless the application says otherwise:
    /// an authorization policy on the endpoint, or an access policy of its own.
    /// </summary>
    [Fact]
    public async Task RemoteCallers_RefusedUnlessTheAppAllows_LoopbackAndAuthorizedEndpointsServed()
    {
        X509Certificate2 leaf = fixture.NewLeaf("status-access");
        await using StaplingServer server = await StaplingServer.StartAsync(
            _time,
            fixture.NewCacheDirectory(),
            l => l.UseHttpsWithOcspStapling(leaf, fixture.Chain),
            services: s => s.AddAuthorization().AddHealthChecks().AddOcspStapling(),
            map: app =>
            {
                app.MapOcspStaplingStatus("/status-default");
                app.MapOcspStaplingStatus("/status-open", o => o.AccessPolicy = _ => true);
                app.MapOcspStaplingStatus("/status-authorized").RequireAuthorization();
                app.MapHealthChecks("/health", new HealthCheckOptions { ResponseWriter = OcspStaplingHealthResponseWriter.WriteAsync });
            });
        IPAddress remote = IPAddress.Parse("203.0.113.7");

        (int status, string body) = await InvokeAsync(server, "/status-default", remote);
        Assert.Equal(403, status);
        Assert.Contains("loopback callers only", body, StringComparison.Ordinal);
        Assert.Equal(200, (await InvokeAsync(server, "/status-default", IPAddress.Loopback)).Status);
        Assert.Equal(200, (await InvokeAsync(server, "/status-default", IPAddress.IPv6Loopback)).Status);
        Assert.Equal(200, (await InvokeAsync(server, "/status-open", remote)).Status);
        Assert.Equal(200, (await InvokeAsync(server, "/status-authorized", remote)).Status); // the authorization middleware admitted it

        using JsonDocument fromElsewhere = JsonDocument.Parse((await InvokeAsync(server, "/health", remote)).Body);
        using JsonDocument fromHere = JsonDocument.Parse((await InvokeAsync(server, "/health", IPAddress.Loopback)).Body);
        Assert.Equal("Healthy", fromElsewhere.RootElement.GetProperty("status").GetString());
        Assert.False(fromElsewhere.RootElement.TryGetProperty("ocspStapling", out _));
        Assert.True(fromHere.RootElement.TryGetProperty("ocspStapling", out _));
    }

    /// <summary>Runs the endpoint mapped at <paramref name="path"/> in-process, as a request from <paramref name="from"/> that passed the middleware.</summary>
    private static async Task<(int Status, string Body)> InvokeAsync(StaplingServer server, string path, IPAddress from)
    {
        Endpoint endpoint = server.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .Single(e => e is RouteEndpoint route && route.RoutePattern.RawText == path);
        var context = new DefaultHttpContext { RequestServices = server.Services };
        context.Connection.RemoteIpAddress = from;
        context.Request.Method = "GET";
        context.Request.Path = path;
        context.Request.Headers.Accept = "application/json";
        using var body = new MemoryStream();
        context.Response.Body = body;
        context.SetEndpoint(endpoint);
        await endpoint.RequestDelegate!(context);
        return (context.Response.StatusCode, System.Text.Encoding.UTF8.GetString(body.ToArray()));
    }

    private async Task<StaplingServer> StartAsync(Certificates certificates, string cache)
    {
        StaplingServer server = await StaplingServer.StartAsync(
            _time,
            cache,
            l => l.UseHttpsWithOcspStapling(certificates.Good, fixture.Chain),
            services: s => s.AddHealthChecks().AddOcspStapling(),
            map: app =>
            {
                app.MapOcspStaplingStatus();
                app.MapHealthChecks("/health", new HealthCheckOptions { ResponseWriter = OcspStaplingHealthResponseWriter.WriteAsync });
            });
        foreach (X509Certificate2 certificate in new[] { certificates.MustStapleDown, certificates.Down, certificates.NoResponder })
        {
            server.Registry.Register(certificate, fixture.Pki.Intermediate);
            await server.Provider.GetStapleAsync(certificate, fixture.Pki.Intermediate); // the first answer: a failure, or nothing to ask
        }

        return server;
    }

    private static async Task<HttpResponseMessage> GetAsync(StaplingServer server, string path, string accept)
    {
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator };
        using var client = new HttpClient(handler, disposeHandler: false);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"https://127.0.0.1:{server.Port}{path}"));
        request.Headers.Accept.ParseAdd(accept);
        HttpResponseMessage response = await client.SendAsync(request);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }

    [GeneratedRegex("<tr class=\"certificate (?:Healthy|Degraded|Unhealthy)\" data-certificate=\"(?<name>[^\"]+)\" data-health=\"(?<health>\\w+)\"")]
    private static partial Regex Rows();

    private sealed record Certificates(X509Certificate2 Good, X509Certificate2 MustStapleDown, X509Certificate2 Down, X509Certificate2 NoResponder);
}
