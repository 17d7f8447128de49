namespace Ocsp.Stapling.Tool.Tests.Configuration;

public sealed class RenewConfigurationTests(ToolFixture fixture) : IClassFixture<ToolFixture>, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ocsp-renew-config-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Write(string json)
    {
        string path = Path.Combine(_directory, "renew.json");
        File.WriteAllText(path, json);
        return path;
    }

    private ToolException Refused(string json) => Assert.Throws<ToolException>(() => RenewConfiguration.Load(Write(json)));

    [Fact]
    public void Load_Minimal_TakesOcspbotDefaults_AndResolvesPathsAgainstTheFile()
    {
        RenewConfiguration sut = RenewConfiguration.Load(Write("""{ "certificates": [ { "cert": "site.pem" } ] }"""));

        Assert.Equal(TimeSpan.FromDays(3), sut.MinimumValidity);
        Assert.Equal(42.8, sut.MinimumValidityPercentage);
        Assert.False(sut.Backup);
        RenewEntry entry = Assert.Single(sut.Certificates);
        Assert.Equal(Path.Combine(_directory, "site.pem"), entry.Certificate);
        Assert.Equal(Path.Combine(_directory, "site.pem.ocsp"), entry.Output);
        Assert.Null(entry.Issuer);
        Assert.Null(entry.Url);
    }

    [Fact]
    public void Load_Everything_WithCommentsAndTrailingCommas()
    {
        RenewConfiguration sut = RenewConfiguration.Load(Write("""
            // cron: */30 * * * *
            {
              "minimum-validity": "12h",
              "minimum-validity-percentage": 50,
              "backup": true,
              "certificates": [
                { "cert": "/etc/ssl/a.pem", "issuer": "ca.pem", "output": "/srv/a.ocsp", "url": "http://ocsp.example.test/" },
              ],
            }
            """));

        Assert.Equal(TimeSpan.FromHours(12), sut.MinimumValidity);
        Assert.Equal(50, sut.MinimumValidityPercentage);
        Assert.True(sut.Backup);
        RenewEntry entry = Assert.Single(sut.Certificates);
        Assert.Equal("/etc/ssl/a.pem", entry.Certificate);
        Assert.Equal(Path.Combine(_directory, "ca.pem"), entry.Issuer);
        Assert.Equal("/srv/a.ocsp", entry.Output);
        Assert.Equal("http://ocsp.example.test/", entry.Url);
    }

    [Theory]
    [InlineData("\"3d\"", 3 * 24 * 60)]
    [InlineData("\"90m\"", 90)]
    [InlineData("\"1.5h\"", 90)]
    [InlineData("\"30s\"", 0.5)]
    [InlineData("\"1.00:00:00\"", 24 * 60)]
    public void Load_Durations(string value, double minutes)
    {
        RenewConfiguration sut = RenewConfiguration.Load(Write($$"""{ "minimum-validity": {{value}}, "certificates": [ { "cert": "a.pem" } ] }"""));

        Assert.Equal(TimeSpan.FromMinutes(minutes), sut.MinimumValidity);
    }

    [Theory]
    [InlineData("""{ "certificates": [ { "cert": "a.pem" } ], "minimum_validity": "3d" }""", "unknown key \"minimum_validity\" in the top level")]
    [InlineData("""{ "certificates": [ { "cert": "a.pem", "ouput": "x" } ] }""", "unknown key \"ouput\" in a certificate")]
    [InlineData("""{ "certificates": [] }""", "\"certificates\" (response files) or \"crls\" (CRL files) must be a non-empty array")]
    [InlineData("""{ "crls": [] }""", "\"certificates\" (response files) or \"crls\" (CRL files) must be a non-empty array")]
    [InlineData("""{ "crls": [ { "ca": "ca.pem", "output": "ca.crl.pem" } ] }""", "a CRL has no \"url\"")]
    [InlineData("""{ "crls": [ { "ca": "ca.pem", "url": "ldap://ca.example/x", "output": "x" } ] }""", "is not an absolute http(s) URL")]
    [InlineData("""{ "crls": [ { "ca": "ca.pem", "url": "http://ca.example/x", "ouptut": "x" } ] }""", "unknown key \"ouptut\" in a CRL")]
    [InlineData("""{ "certificates": [ { "issuer": "ca.pem" } ] }""", "a certificate has no \"cert\"")]
    [InlineData("""{ "minimum-validity-percentage": 120, "certificates": [ { "cert": "a.pem" } ] }""", "must be between 0 and 100")]
    [InlineData("""{ "minimum-validity": "soon", "certificates": [ { "cert": "a.pem" } ] }""", "is not a duration")]
    [InlineData("""{ "minimum-validity": 3, "certificates": [ { "cert": "a.pem" } ] }""", "must be a string such as")]
    [InlineData("""{ "certificates": [ { "cert": "a.pem", "url": "ftp://ocsp.example.test/" } ] }""", "is not an absolute http(s) URL")]
    [InlineData("""{ "certificates": [ { "cert": 7 } ] }""", "\"cert\" must be a string")]
    [InlineData("""[ 1, 2 ]""", "the file must be a JSON object")]
    [InlineData("""{ "certificates": [ { "cert": "a.pem" } """, "Configuration '")]
    public void Load_Mistakes_AreUsageErrorsSayingWhat(string json, string message)
    {
        ToolException error = Refused(json);

        Assert.Equal(ExitCodes.Usage, error.ExitCode);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_CrlsAlone_PathsRelativeToTheFile()
    {
        RenewConfiguration sut = RenewConfiguration.Load(Write("""{ "crls": [ { "ca": "ca.pem", "url": "http://ca.example/ca.crl", "output": "out/ca.crl.pem" } ] }"""));

        CrlFileEntry entry = Assert.Single(sut.Crls);
        Assert.Empty(sut.Certificates);
        Assert.Equal((Path.Combine(_directory, "ca.pem"), new Uri("http://ca.example/ca.crl"), Path.Combine(_directory, "out", "ca.crl.pem")), (entry.Ca, entry.Url, entry.Output));
        Assert.Null(entry.HaProxySocket);
    }

    [Fact]
    public void Load_MissingFile_IsNoInput()
    {
        ToolException error = Assert.Throws<ToolException>(() => RenewConfiguration.Load(Path.Combine(_directory, "absent.json")));

        Assert.Equal(ExitCodes.NoInput, error.ExitCode);
    }

    [Theory]
    [InlineData(96, 0, false)]    // fresh 4-day response
    [InlineData(96, 20, false)]   // 76 h left
    [InlineData(96, 30, true)]    // 66 h left: under the 3-day minimum
    [InlineData(240, 100, false)] // 10-day response, 140 h left
    [InlineData(240, 150, true)]  // 90 h left: over 3 days but under 42.8 % of the lifetime
    [InlineData(240, 170, true)]  // 70 h left: under 3 days
    public void NeedsRenewal_OcspbotRule(int lifetimeHours, int ageHours, bool expected)
    {
        RenewConfiguration sut = RenewConfiguration.Load(Write("""{ "certificates": [ { "cert": "a.pem" } ] }"""));
        DateTimeOffset now = DateTimeOffset.UnixEpoch.AddYears(56);
        DateTimeOffset thisUpdate = now.AddHours(-ageHours);
        var staple = new OcspStaple(
            [0x30, 0x00], OcspCertificateId.Create(fixture.Pki.Leaf, fixture.Pki.Intermediate), OcspCertificateStatus.Good, thisUpdate, thisUpdate.AddHours(lifetimeHours), thisUpdate, thisUpdate);

        Assert.Equal(expected, sut.NeedsRenewal(staple, now));
    }
}
