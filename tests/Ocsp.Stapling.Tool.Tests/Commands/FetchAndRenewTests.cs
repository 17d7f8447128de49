using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tool.Tests.Commands;

public sealed class FetchAndRenewTests(ToolFixture fixture) : IClassFixture<ToolFixture>
{
    [Fact]
    public async Task Fetch_WritesTheValidatedDer_AndInspectValidatesIt()
    {
        LeafFiles leaf = fixture.NewLeaf("fetch");
        string output = Path.Combine(leaf.Directory, "out.der");

        ProgramResult fetch = await ToolFixture.RunToolAsync("fetch", "--cert", leaf.Leaf, "--issuer", fixture.IssuerFile, "--out", output);
        ProgramResult inspect = await ToolFixture.RunToolAsync("inspect", output, "--cert", leaf.Chain);

        Assert.True(fetch.ExitCode == 0, fetch.ToString());
        Assert.Matches(@"status good, thisUpdate \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ, nextUpdate", fetch.StandardOutput);
        OcspValidationResult result = OcspResponseValidator.Validate(File.ReadAllBytes(output), leaf.Certificate, fixture.Pki.Intermediate, TimeProvider.System.GetUtcNow());
        Assert.True(result.IsValid, result.Message);
        Assert.True(inspect.ExitCode == 0, inspect.ToString());
        Assert.Contains("Cert Status: good", inspect.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"Serial Number: {leaf.Certificate.SerialNumber}", inspect.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("Validation for", inspect.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fetch_BadInputs_FailClearly_WithDistinctCodes_AndWriteNothing()
    {
        LeafFiles leaf = fixture.NewLeaf("fetch-bad");

        ProgramResult noIssuer = await ToolFixture.RunToolAsync("fetch", "--cert", leaf.Leaf);
        ProgramResult missing = await ToolFixture.RunToolAsync("fetch", "--cert", Path.Combine(leaf.Directory, "nope.pem"));
        ProgramResult notACertificate = await ToolFixture.RunToolAsync("fetch", "--cert", leaf.Key);
        ProgramResult usage = await ToolFixture.RunToolAsync("fetch", "--bogus");
        ProgramResult unreachable = await ToolFixture.RunToolAsync("fetch", "--cert", leaf.Chain, "--url", "http://127.0.0.1:9/");

        Assert.Equal(65, noIssuer.ExitCode);
        Assert.Contains("give its issuer with --issuer, or a chain file (certificate then issuer) as --cert", noIssuer.StandardError, StringComparison.Ordinal);
        Assert.Equal(66, missing.ExitCode);
        Assert.Contains("no such file", missing.StandardError, StringComparison.Ordinal);
        Assert.Equal(65, notACertificate.ExitCode);
        Assert.Equal(64, usage.ExitCode);
        Assert.Equal(69, unreachable.ExitCode);
        Assert.Contains("Nothing written", unreachable.StandardError, StringComparison.Ordinal);
        Assert.False(File.Exists(leaf.Chain + ".ocsp"));

        // A certificate without an OCSP URL is bad input (65), not a failed fetch (69); --url is what it needs.
        string noAia = Path.Combine(leaf.Directory, "no-aia.pem");
        await File.WriteAllTextAsync(noAia, TestPki.ToPem(fixture.Pki.IssueLeaf("no-aia-fetch.test", ocspUrl: null)));
        ProgramResult withoutUrl = await ToolFixture.RunToolAsync("fetch", "--cert", noAia, "--issuer", fixture.IssuerFile);
        Assert.True(withoutUrl.ExitCode == 65, withoutUrl.ToString());
        Assert.Contains("has no OCSP responder URL (AIA): give its responder with --url", withoutUrl.StandardError, StringComparison.Ordinal);
        Assert.False(File.Exists(noAia + ".ocsp"));
    }

    [Fact]
    public async Task Renew_ExitCodes_TwoRenewed_ThenNothing_ResponderDownKeepsFiles_RevokedNeverInstalled()
    {
        LeafFiles first = fixture.NewLeaf("renew-a");
        LeafFiles second = fixture.NewLeaf("renew-b");
        string config = Path.Combine(first.Directory, "stapling.json");
        await File.WriteAllTextAsync(config, $$"""
            {
              // ocspbot's defaults, spelled out
              "minimum-validity": "3d",
              "minimum-validity-percentage": 42.8,
              "backup": true,
              "certificates": [
                { "cert": "{{first.Chain}}", "output": "{{first.Ocsp}}" },
                { "cert": "{{second.Leaf}}", "issuer": "{{fixture.IssuerFile}}", "output": "{{second.Ocsp}}" }
              ]
            }
            """);

        ProgramResult renewed = await ToolFixture.RunToolAsync("renew", "--config", config);
        Assert.True(renewed.ExitCode == 2, renewed.ToString());
        byte[] firstBytes = File.ReadAllBytes(first.Ocsp);
        byte[] secondBytes = File.ReadAllBytes(second.Ocsp);

        ProgramResult nothing = await ToolFixture.RunToolAsync("renew", "--config", config);
        Assert.True(nothing.ExitCode == 0, nothing.ToString());
        Assert.Contains("kept", nothing.StandardOutput, StringComparison.Ordinal);

        // Force both into the window (responses last 4 days): the responder is down, then says "revoked" for one.
        await File.WriteAllTextAsync(config, File.ReadAllText(config).Replace("\"3d\"", "\"5d\"", StringComparison.Ordinal));
        fixture.Responder.Fault = ResponderFault.Down;
        ProgramResult down = await ToolFixture.RunToolAsync("renew", "--config", config);
        fixture.Responder.Fault = ResponderFault.None;
        fixture.Responder.Revoke(first.Certificate, TimeProvider.System.GetUtcNow().AddMinutes(-1));
        fixture.Responder.Revoke(second.Certificate, TimeProvider.System.GetUtcNow().AddMinutes(-1));
        ProgramResult revoked = await ToolFixture.RunToolAsync("renew", "--config", config);

        Assert.True(down.ExitCode == 69, down.ToString());
        Assert.True(revoked.ExitCode == 69, revoked.ToString());
        Assert.Contains("revoked", revoked.StandardError, StringComparison.Ordinal);
        Assert.Contains("the existing file is left as it was", down.StandardError, StringComparison.Ordinal);
        Assert.Equal(firstBytes, File.ReadAllBytes(first.Ocsp));
        Assert.Equal(secondBytes, File.ReadAllBytes(second.Ocsp));

        // A certificate with no file yet whose responder is down: the message says nothing was written, not "left as it was".
        LeafFiles third = fixture.NewLeaf("renew-c");
        string fresh = Path.Combine(third.Directory, "fresh.json");
        await File.WriteAllTextAsync(fresh, $$"""{ "certificates": [ { "cert": "{{third.Chain}}", "output": "{{third.Ocsp}}" } ] }""");
        fixture.Responder.Fault = ResponderFault.Down;
        ProgramResult firstDown = await ToolFixture.RunToolAsync("renew", "--config", fresh);
        fixture.Responder.Fault = ResponderFault.None;
        Assert.True(firstDown.ExitCode == 69, firstDown.ToString());
        Assert.Contains("no file written", firstDown.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("left as it was", firstDown.StandardError, StringComparison.Ordinal);
        Assert.False(File.Exists(third.Ocsp));
    }

    [Fact]
    public async Task Renew_BadConfiguration_Is64_WithTheReason()
    {
        string config = Path.Combine(fixture.Directory, $"bad-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(config, """{ "minimum_validity": "3d", "certificates": [] }""");

        ProgramResult result = await ToolFixture.RunToolAsync("renew", "--config", config);

        Assert.Equal(64, result.ExitCode);
        Assert.Contains("unknown key \"minimum_validity\"", result.StandardError, StringComparison.Ordinal);

        LeafFiles leaf = fixture.NewLeaf("bad-url");
        await File.WriteAllTextAsync(config, $$"""{ "certificates": [ { "cert": "{{leaf.Chain}}", "url": "ftp://responder/" } ] }""");
        ProgramResult badUrl = await ToolFixture.RunToolAsync("renew", "--config", config);

        Assert.Equal(64, badUrl.ExitCode);
        Assert.Contains("is not an absolute http(s) URL", badUrl.StandardError, StringComparison.Ordinal);
    }
}
