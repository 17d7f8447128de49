using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Ocsp.Stapling.Internal;

namespace Ocsp.Stapling.Tests.DependencyInjection;

public sealed class OcspStaplingServiceCollectionExtensionsTests
{
    public static TheoryData<string, Action<OcspStaplingOptions>> InvalidOptions => new()
    {
        { "Refresh.AtFraction", o => o.Refresh.AtFraction = 1.5 },
        { "Refresh.AtFraction", o => o.Refresh.AtFraction = 0 },
        { "Refresh.MinimumRemainingValidity", o => o.Refresh.MinimumRemainingValidity = TimeSpan.FromMinutes(-1) },
        { "Refresh.Jitter", o => o.Refresh.Jitter = 1 },
        { "Refresh.FailureBackoffBase", o => o.Refresh.FailureBackoffBase = TimeSpan.Zero },
        { "Refresh.FailureBackoffMax", o => o.Refresh.FailureBackoffMax = TimeSpan.FromSeconds(1) },
        { "Refresh.MaxParallelFetches", o => o.Refresh.MaxParallelFetches = 0 },
        { "Refresh.MinimumPruneInterval", o => o.Refresh.MinimumPruneInterval = TimeSpan.FromSeconds(-1) },
        { "SharedStore.Timeout", o => o.SharedStore.Timeout = TimeSpan.Zero },
        { "SharedStore.KeyPrefix", o => o.SharedStore.KeyPrefix = string.Empty },
        { "Tls.StartupFetchTimeout", o => o.Tls.StartupFetchTimeout = TimeSpan.FromSeconds(-1) },
        { "Tls.CertificateReloadDelay", o => o.Tls.CertificateReloadDelay = TimeSpan.FromSeconds(-1) },
        { "Tls.CertificatePollInterval", o => o.Tls.CertificatePollInterval = TimeSpan.FromSeconds(-1) },
        { "Validation.MaxClockSkew", o => o.Validation.MaxClockSkew = TimeSpan.FromSeconds(-1) },
        { "Validation.MaxResponseSize", o => o.Validation.MaxResponseSize = 10 },
        { "Validation.MissingNextUpdateLifetime", o => o.Validation.MissingNextUpdateLifetime = TimeSpan.FromSeconds(-1) },
        { "Fetch.TotalTimeout", o => o.Fetch.TotalTimeout = TimeSpan.Zero },
        { "Fetch.AttemptTimeout", o => o.Fetch.AttemptTimeout = TimeSpan.FromMinutes(5) },
        { "Fetch.AttemptTimeout", o => (o.Fetch.TotalTimeout, o.Fetch.AttemptTimeout) = (TimeSpan.FromDays(3), TimeSpan.FromDays(2)) },
        { "Fetch.HashAlgorithm", o => o.Fetch.HashAlgorithm = (OcspHashAlgorithm)42 },
        { "Fetch.MaxConcurrentRequestsPerHost", o => o.Fetch.MaxConcurrentRequestsPerHost = 0 },
        { "Fetch.MaxRequestsPerSecondPerHost", o => o.Fetch.MaxRequestsPerSecondPerHost = 0 },
        { "Fetch.Redirects", o => o.Fetch.Redirects = (OcspRedirectPolicy)42 },
        { "Fetch.Retry.MaxAttempts", o => o.Fetch.Retry.MaxAttempts = -1 },
        { "Fetch.Retry.Delay", o => o.Fetch.Retry.Delay = TimeSpan.Zero },
        { "Fetch.Retry.MaxRetryAfter", o => o.Fetch.Retry.MaxRetryAfter = TimeSpan.FromSeconds(-1) },
        { "Fetch.CircuitBreaker.FailureRatio", o => o.Fetch.CircuitBreaker.FailureRatio = 0 },
        { "Fetch.CircuitBreaker.MinimumThroughput", o => o.Fetch.CircuitBreaker.MinimumThroughput = 1 },
        { "Fetch.CircuitBreaker.SamplingDuration", o => o.Fetch.CircuitBreaker.SamplingDuration = TimeSpan.FromMilliseconds(10) },
        { "Fetch.CircuitBreaker.BreakDuration", o => o.Fetch.CircuitBreaker.BreakDuration = TimeSpan.FromMilliseconds(10) },
        { "Fetch.ResponderOverrides[ABC]", o => o.Fetch.ResponderOverrides["ABC"] = "ftp://example.test/" },
        { "Fetch.Proxy.Address", o => o.Fetch.Proxy.Address = new Uri("https://proxy.example.test:3128/") },
        { "Fetch.Proxy.Address", o => o.Fetch.Proxy.Address = new Uri("http://proxy.example.test:3128/some/path") },
        { "Fetch.Proxy.Bypass:", o => o.Fetch.Proxy.Bypass.Add("http://not-a-host/") },
        { "Certificates[0].Path", o => o.Certificates.Add(new OcspCertificateFile { Path = "" }) },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public async Task AddOcspStapling_InvalidOption_FailsStartNamingTheOption(string option, Action<OcspStaplingOptions> configure)
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddOcspStapling(configure).UseMemoryOnly();
        using IHost host = builder.Build();

        OptionsValidationException error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains($"OcspStaplingOptions.{option} ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddOcspStapling_CertificateFileMissing_FailsStartNamingTheFile()
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddOcspStapling(o => o.Certificates.Add(new OcspCertificateFile { Path = "/nonexistent/leaf.pem" })).UseMemoryOnly();
        using IHost host = builder.Build();

        InvalidOperationException error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());

        Assert.Contains("OcspStaplingOptions.Certificates[0] ('/nonexistent/leaf.pem')", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Every configuration key the README documents, bound from one section: a renamed option breaks this test.</summary>
    [Fact]
    public void AddOcspStapling_ConfigurationSection_BindsEveryDocumentedKey()
    {
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["OcspStapling:StapleRevoked"] = "true",
            ["OcspStapling:Refresh:AtFraction"] = "0.25",
            ["OcspStapling:Refresh:MinimumRemainingValidity"] = "12:00:00",
            ["OcspStapling:Refresh:Jitter"] = "0.2",
            ["OcspStapling:Refresh:FailureBackoffBase"] = "00:00:30",
            ["OcspStapling:Refresh:FailureBackoffMax"] = "02:00:00",
            ["OcspStapling:Refresh:MaxParallelFetches"] = "8",
            ["OcspStapling:Refresh:MinimumPruneInterval"] = "00:10:00",
            ["OcspStapling:Fetch:TotalTimeout"] = "00:00:20",
            ["OcspStapling:Fetch:AttemptTimeout"] = "00:00:05",
            ["OcspStapling:Fetch:HashAlgorithm"] = "Sha256",
            ["OcspStapling:Fetch:MaxConcurrentRequestsPerHost"] = "2",
            ["OcspStapling:Fetch:MaxRequestsPerSecondPerHost"] = "7.5",
            ["OcspStapling:Fetch:Redirects"] = "None",
            ["OcspStapling:Fetch:IncludeNonce"] = "true",
            ["OcspStapling:Fetch:ResponderOverrides:ABCDEF"] = "http://ocsp.example.test/",
            ["OcspStapling:Fetch:Proxy:Address"] = "http://proxy.example.test:3128/",
            ["OcspStapling:Fetch:Proxy:Bypass:0"] = ".internal",
            ["OcspStapling:Fetch:Proxy:UseEnvironment"] = "false",
            ["OcspStapling:Fetch:Retry:MaxAttempts"] = "5",
            ["OcspStapling:Fetch:Retry:Delay"] = "00:00:02",
            ["OcspStapling:Fetch:Retry:MaxRetryAfter"] = "00:00:15",
            ["OcspStapling:Fetch:CircuitBreaker:FailureRatio"] = "0.75",
            ["OcspStapling:Fetch:CircuitBreaker:MinimumThroughput"] = "10",
            ["OcspStapling:Fetch:CircuitBreaker:SamplingDuration"] = "00:02:00",
            ["OcspStapling:Fetch:CircuitBreaker:BreakDuration"] = "00:03:00",
            ["OcspStapling:Validation:MaxClockSkew"] = "00:01:00",
            ["OcspStapling:Validation:MaxResponseSize"] = "4096",
            ["OcspStapling:Validation:MissingNextUpdateLifetime"] = "00:30:00",
            ["OcspStapling:SharedStore:Timeout"] = "00:00:03",
            ["OcspStapling:SharedStore:KeyPrefix"] = "fleet-a:",
            ["OcspStapling:SharedStore:Directory"] = "/tmp/x",
            ["OcspStapling:Tls:StartupFetchTimeout"] = "00:00:09",
            ["OcspStapling:Tls:CertificateReloadDelay"] = "00:00:04",
            ["OcspStapling:Tls:CertificatePollInterval"] = "00:05:00",
            ["OcspStapling:PerCertificateMetrics"] = "true",
            ["OcspStapling:Certificates:0:Path"] = "/etc/ssl/site.pem",
            ["OcspStapling:Certificates:0:IssuerPath"] = "/etc/ssl/ca.pem",
        }).Build();
        var services = new ServiceCollection();

        services.AddOcspStapling(configuration.GetSection("OcspStapling"));
        using ServiceProvider provider = services.BuildServiceProvider();
        OcspStaplingOptions sut = provider.GetRequiredService<IOptions<OcspStaplingOptions>>().Value;

        Assert.True(sut.StapleRevoked);
        Assert.Equal((0.25, TimeSpan.FromHours(12), 0.2), (sut.Refresh.AtFraction, sut.Refresh.MinimumRemainingValidity, sut.Refresh.Jitter));
        Assert.Equal((TimeSpan.FromSeconds(30), TimeSpan.FromHours(2)), (sut.Refresh.FailureBackoffBase, sut.Refresh.FailureBackoffMax));
        Assert.Equal((8, TimeSpan.FromMinutes(10)), (sut.Refresh.MaxParallelFetches, sut.Refresh.MinimumPruneInterval));
        Assert.Equal((TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(5)), (sut.Fetch.TotalTimeout, sut.Fetch.AttemptTimeout));
        Assert.Equal((OcspHashAlgorithm.Sha256, 2, 7.5), (sut.Fetch.HashAlgorithm, sut.Fetch.MaxConcurrentRequestsPerHost, sut.Fetch.MaxRequestsPerSecondPerHost));
        Assert.Equal((OcspRedirectPolicy.None, true), (sut.Fetch.Redirects, sut.Fetch.IncludeNonce));
        Assert.Equal("http://ocsp.example.test/", sut.Fetch.ResponderOverrides["ABCDEF"]);
        Assert.Equal((new Uri("http://proxy.example.test:3128/"), ".internal", false), (sut.Fetch.Proxy.Address, Assert.Single(sut.Fetch.Proxy.Bypass), sut.Fetch.Proxy.UseEnvironment));
        Assert.Equal((5, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(15)), (sut.Fetch.Retry.MaxAttempts, sut.Fetch.Retry.Delay, sut.Fetch.Retry.MaxRetryAfter));
        Assert.Equal(
            (0.75, 10, TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(3)),
            (sut.Fetch.CircuitBreaker.FailureRatio, sut.Fetch.CircuitBreaker.MinimumThroughput, sut.Fetch.CircuitBreaker.SamplingDuration, sut.Fetch.CircuitBreaker.BreakDuration));
        Assert.Equal((TimeSpan.FromMinutes(1), 4096, TimeSpan.FromMinutes(30)), (sut.Validation.MaxClockSkew, sut.Validation.MaxResponseSize, sut.Validation.MissingNextUpdateLifetime));
        Assert.Equal((TimeSpan.FromSeconds(3), "fleet-a:", "/tmp/x"), (sut.SharedStore.Timeout, sut.SharedStore.KeyPrefix, sut.SharedStore.Directory));
        Assert.Equal((TimeSpan.FromSeconds(9), TimeSpan.FromSeconds(4), TimeSpan.FromMinutes(5)), (sut.Tls.StartupFetchTimeout, sut.Tls.CertificateReloadDelay, sut.Tls.CertificatePollInterval));
        Assert.True(sut.PerCertificateMetrics);
        OcspCertificateFile file = Assert.Single(sut.Certificates);
        Assert.Equal(("/etc/ssl/site.pem", "/etc/ssl/ca.pem"), (file.Path, file.IssuerPath));
    }

    [Fact]
    public void AddOcspStapling_CalledTwice_RegistersOneProviderAndOneScheduler()
    {
        var services = new ServiceCollection();
        services.AddLogging();

        services.AddOcspStapling().UseMemoryOnly();
        services.AddOcspStapling(o => o.Refresh.Jitter = 0.2);
        using ServiceProvider provider = services.BuildServiceProvider();

        Assert.Same(provider.GetRequiredService<IOcspResponseProvider>(), provider.GetRequiredService<OcspCertificateRegistry>());
        Assert.Single(provider.GetServices<IHostedService>().OfType<OcspRefreshService>());
        Assert.Single(provider.GetServices<IHostedService>().OfType<OcspStaplingStartupService>());
        Assert.Equal(0.2, provider.GetRequiredService<IOptions<OcspStaplingOptions>>().Value.Refresh.Jitter);
    }
}
