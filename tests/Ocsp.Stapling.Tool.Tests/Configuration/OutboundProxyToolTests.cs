using System.Net.Http.Headers;
using System.Text.Json;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tool.Tests.Configuration;

/// <summary>
/// <c>fetch</c>, <c>renew</c> and <c>serve</c> behind a firewall (issue 29, item 1), through a real tinyproxy, with a
/// responder that answers only what came through a proxy: <c>--proxy</c>, the environment's <c>HTTP_PROXY</c>,
/// <c>--no-proxy</c>, and a proxy that asks for credentials.
/// </summary>
public sealed class OutboundProxyToolTests(ToolFixture fixture) : IClassFixture<ToolFixture>, IAsyncLifetime
{
    private const string Password = "tool-Pr0xy-secret";
    private static readonly Dictionary<string, string?> NoProxyEnvironment = new()
    {
        ["HTTP_PROXY"] = null, ["http_proxy"] = null, ["HTTPS_PROXY"] = null, ["https_proxy"] = null, ["ALL_PROXY"] = null, ["all_proxy"] = null, ["NO_PROXY"] = null, ["no_proxy"] = null,
    };

    private ForwardProxy _proxy = null!;

    public async Task InitializeAsync()
    {
        Requires.Programs("tinyproxy");
        _proxy = await ForwardProxy.StartAsync(fixture.Directory);
        fixture.Responder.RequireVia = true;
    }

    public async Task DisposeAsync()
    {
        fixture.Responder.RequireVia = false;
        if (_proxy is not null)
        {
            await _proxy.DisposeAsync();
        }
    }

    [SkippableFact]
    public async Task Fetch_WithProxy_Works_Directly_ItDoesNot_AndTheEnvironmentsProxyIsHonoured_UnlessNoProxy()
    {
        LeafFiles site = fixture.NewLeaf("fetch-proxy");

        ProgramResult through = await ToolFixture.RunToolAsync(NoProxyEnvironment, "fetch", "--cert", site.Chain, "--out", site.Ocsp, "--proxy", _proxy.Url.ToString());
        Assert.True(through.ExitCode == 0, through.ToString());
        Assert.True(File.Exists(site.Ocsp));

        ProgramResult direct = await ToolFixture.RunToolAsync(NoProxyEnvironment, "fetch", "--cert", site.Chain, "--out", site.Ocsp + ".direct");
        Assert.True(direct.ExitCode == 69, direct.ToString()); // the responder is behind the firewall
        Assert.Contains("ConnectionFailed", direct.StandardError, StringComparison.Ordinal);

        var environment = new Dictionary<string, string?>(NoProxyEnvironment) { ["HTTP_PROXY"] = _proxy.Url.ToString() };
        ProgramResult fromEnvironment = await ToolFixture.RunToolAsync(environment, "fetch", "--cert", site.Chain, "--out", site.Ocsp + ".env");
        Assert.True(fromEnvironment.ExitCode == 0, fromEnvironment.ToString());

        ProgramResult noProxy = await ToolFixture.RunToolAsync(environment, "fetch", "--cert", site.Chain, "--out", site.Ocsp + ".noproxy", "--no-proxy");
        Assert.True(noProxy.ExitCode == 69, noProxy.ToString());

        ProgramResult both = await ToolFixture.RunToolAsync(NoProxyEnvironment, "fetch", "--cert", site.Chain, "--proxy", _proxy.Url.ToString(), "--no-proxy");
        Assert.True(both.ExitCode == 64, both.ToString());
        ProgramResult https = await ToolFixture.RunToolAsync(NoProxyEnvironment, "fetch", "--cert", site.Chain, "--proxy", $"https://user:{Password}@proxy.test:3128/");
        Assert.True(https.ExitCode == 64, https.ToString());
        Assert.DoesNotContain(Password, https.ToString(), StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Fetch_ThroughAProxyAskingForCredentials_407IsReported_WithThemFromTheEnvironmentOrAFileItWorks_NeverPrinted()
    {
        await using ForwardProxy guarded = await ForwardProxy.StartAsync(fixture.Directory, "ocsp", Password);
        LeafFiles site = fixture.NewLeaf("fetch-proxy-auth");

        ProgramResult refused = await ToolFixture.RunToolAsync(NoProxyEnvironment, "fetch", "--cert", site.Chain, "--proxy", guarded.Url.ToString());
        Assert.True(refused.ExitCode == 69, refused.ToString());
        Assert.Contains("ProxyFailed", refused.StandardError, StringComparison.Ordinal);
        Assert.Contains("407 Proxy Authentication Required", refused.StandardError, StringComparison.Ordinal);

        // On the command line, where ps shows them to everyone: refused before anything is asked, without echoing them.
        ProgramResult inTheUrl = await ToolFixture.RunToolAsync(NoProxyEnvironment, "fetch", "--cert", site.Chain, "--proxy", guarded.UrlWith("ocsp", Password).ToString());
        Assert.True(inTheUrl.ExitCode == 64, inTheUrl.ToString());
        Assert.Contains(OutboundProxyArguments.CredentialsVariable, inTheUrl.StandardError, StringComparison.Ordinal);

        var withVariable = new Dictionary<string, string?>(NoProxyEnvironment) { [OutboundProxyArguments.CredentialsVariable] = $"ocsp:{Password}" };
        ProgramResult fromVariable = await ToolFixture.RunToolAsync(withVariable, "fetch", "--cert", site.Chain, "--out", site.Ocsp, "--proxy", guarded.Url.ToString(), "--verbose");
        Assert.True(fromVariable.ExitCode == 0, fromVariable.ToString());

        string file = Path.Combine(site.Directory, "proxy-credentials");
        await File.WriteAllTextAsync(file, $"ocsp:{Password}\n");
        ProgramResult fromFile = await ToolFixture.RunToolAsync(
            NoProxyEnvironment, "fetch", "--cert", site.Chain, "--out", site.Ocsp + ".file", "--proxy", guarded.Url.ToString(), "--proxy-credentials-file", file, "--verbose");
        Assert.True(fromFile.ExitCode == 0, fromFile.ToString());

        var wrong = new Dictionary<string, string?>(NoProxyEnvironment) { [OutboundProxyArguments.CredentialsVariable] = "ocsp:not-the-password" };
        ProgramResult wrongOnes = await ToolFixture.RunToolAsync(wrong, "fetch", "--cert", site.Chain, "--proxy", guarded.Url.ToString());
        Assert.True(wrongOnes.ExitCode == 69, wrongOnes.ToString());
        Assert.Contains("ProxyFailed", wrongOnes.StandardError, StringComparison.Ordinal);

        Assert.DoesNotContain(Password, string.Concat(refused, inTheUrl, fromVariable, fromFile, wrongOnes), StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Renew_WithProxy_RenewsThroughIt()
    {
        LeafFiles site = fixture.NewLeaf("renew-proxy");
        string config = Path.Combine(site.Directory, "renew.json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new { certificates = new[] { new { cert = site.Chain, output = site.Ocsp } } }));

        ProgramResult renewed = await ToolFixture.RunToolAsync(NoProxyEnvironment, "renew", "--config", config, "--cache", Path.Combine(site.Directory, "cache"), "--proxy", _proxy.Url.ToString());

        Assert.True(renewed.ExitCode == 1, renewed.ToString());
        Assert.True(File.Exists(site.Ocsp));
        Assert.Contains(fixture.Responder.Url.Authority, _proxy.Log, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Serve_WithProxy_FetchesThroughIt_AndSaysSoAtStart()
    {
        LeafFiles site = fixture.NewLeaf("serve-proxy");
        int directBefore = fixture.Responder.DirectRequestCount;
        await using ServeProcess serve = await ServeProcess.StartAsync("--cache", Path.Combine(site.Directory, "cache"), "--cert", site.Chain, "--proxy", _proxy.Url.ToString());
        using var client = new HttpClient();
        using var content = new ByteArrayContent(OcspRequest.Create(site.Certificate, fixture.Pki.Intermediate).Encoded.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/ocsp-request");

        using HttpResponseMessage answer = await client.PostAsync(serve.Url, content);
        OcspValidationResult validation = OcspResponseValidator.Validate(
            await answer.Content.ReadAsByteArrayAsync(), site.Certificate, fixture.Pki.Intermediate, TimeProvider.System.GetUtcNow());

        Assert.True(validation.IsValid, validation.Message + "\n" + serve.Output);
        Assert.Contains($"asked through the outbound proxy http://{_proxy.Url.Authority}", serve.Output, StringComparison.Ordinal);
        Assert.Equal(directBefore, fixture.Responder.DirectRequestCount);
    }
}
