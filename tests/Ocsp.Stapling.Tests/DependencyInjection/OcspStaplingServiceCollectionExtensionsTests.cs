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
        { "RefreshAtFraction", o => o.RefreshAtFraction = 1.5 },
        { "RefreshAtFraction", o => o.RefreshAtFraction = 0 },
        { "MinimumRemainingValidity", o => o.MinimumRemainingValidity = TimeSpan.FromMinutes(-1) },
        { "Jitter", o => o.Jitter = 1 },
        { "FailureBackoffBase", o => o.FailureBackoffBase = TimeSpan.Zero },
        { "FailureBackoffMax", o => o.FailureBackoffMax = TimeSpan.FromSeconds(1) },
        { "MaxParallelFetches", o => o.MaxParallelFetches = 0 },
        { "DistributedCacheTimeout", o => o.DistributedCacheTimeout = TimeSpan.Zero },
        { "CacheKeyPrefix", o => o.CacheKeyPrefix = string.Empty },
        { "Validation.MaxClockSkew", o => o.Validation.MaxClockSkew = TimeSpan.FromSeconds(-1) },
        { "Validation.MaxResponseSize", o => o.Validation.MaxResponseSize = 10 },
        { "Validation.MissingNextUpdateLifetime", o => o.Validation.MissingNextUpdateLifetime = TimeSpan.FromSeconds(-1) },
        { "Fetch.TotalTimeout", o => o.Fetch.TotalTimeout = TimeSpan.Zero },
        { "Fetch.AttemptTimeout", o => o.Fetch.AttemptTimeout = TimeSpan.FromMinutes(5) },
        { "Fetch.MaxRetryAttempts", o => o.Fetch.MaxRetryAttempts = -1 },
        { "Fetch.RetryDelay", o => o.Fetch.RetryDelay = TimeSpan.Zero },
        { "Fetch.MaxRetryAfter", o => o.Fetch.MaxRetryAfter = TimeSpan.FromSeconds(-1) },
        { "Fetch.CircuitBreakerFailureRatio", o => o.Fetch.CircuitBreakerFailureRatio = 0 },
        { "Fetch.CircuitBreakerMinimumThroughput", o => o.Fetch.CircuitBreakerMinimumThroughput = 1 },
        { "Fetch.CircuitBreakerSamplingDuration", o => o.Fetch.CircuitBreakerSamplingDuration = TimeSpan.FromMilliseconds(10) },
        { "Fetch.CircuitBreakerBreakDuration", o => o.Fetch.CircuitBreakerBreakDuration = TimeSpan.FromMilliseconds(10) },
        { "Fetch.ResponderOverrides[ABC]", o => o.Fetch.ResponderOverrides["ABC"] = "ftp://example.test/" },
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

    [Fact]
    public void AddOcspStapling_ConfigurationSection_BindsValues()
    {
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["OcspStapling:RefreshAtFraction"] = "0.25",
            ["OcspStapling:Fetch:MaxRetryAttempts"] = "5",
            ["OcspStapling:Validation:MaxClockSkew"] = "00:01:00",
            ["OcspStapling:CacheDirectory"] = "/tmp/x",
        }).Build();
        var services = new ServiceCollection();

        services.AddOcspStapling(configuration.GetSection("OcspStapling"));
        using ServiceProvider provider = services.BuildServiceProvider();
        OcspStaplingOptions sut = provider.GetRequiredService<IOptions<OcspStaplingOptions>>().Value;

        Assert.Equal(0.25, sut.RefreshAtFraction);
        Assert.Equal(5, sut.Fetch.MaxRetryAttempts);
        Assert.Equal(TimeSpan.FromMinutes(1), sut.Validation.MaxClockSkew);
        Assert.Equal("/tmp/x", sut.CacheDirectory);
    }

    [Fact]
    public void AddOcspStapling_CalledTwice_RegistersOneProviderAndOneScheduler()
    {
        var services = new ServiceCollection();
        services.AddLogging();

        services.AddOcspStapling().UseMemoryOnly();
        services.AddOcspStapling(o => o.Jitter = 0.2);
        using ServiceProvider provider = services.BuildServiceProvider();

        Assert.Same(provider.GetRequiredService<IOcspResponseProvider>(), provider.GetRequiredService<IOcspCertificateRegistry>());
        Assert.Single(provider.GetServices<IHostedService>().OfType<OcspRefreshService>());
        Assert.Single(provider.GetServices<IHostedService>().OfType<OcspStaplingStartupService>());
        Assert.Equal(0.2, provider.GetRequiredService<IOptions<OcspStaplingOptions>>().Value.Jitter);
    }
}
