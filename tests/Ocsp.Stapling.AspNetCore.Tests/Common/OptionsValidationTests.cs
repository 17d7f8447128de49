using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ocsp.Stapling.AspNetCore.Tests.Common;

/// <summary>Every options type of the package is checked by its generated validator, at start-up, naming the option.</summary>
public sealed class OptionsValidationTests(KestrelFixture fixture) : IClassFixture<KestrelFixture>
{
    public static TheoryData<string, Action<OcspProxyOptions>> InvalidProxyOptions => new()
    {
        { "OcspProxyOptions.Limits.MaxRequestBodySize", o => o.Limits.MaxRequestBodySize = 0 },
        { "OcspProxyOptions.Limits.MaxResponseSize", o => o.Limits.MaxResponseSize = 10 },
        { "OcspProxyOptions.Limits.MaxRequestTargetLength", o => o.Limits.MaxRequestTargetLength = 0 },
        { "OcspProxyOptions.Cache.MaxClientCacheAge", o => o.Cache.MaxClientCacheAge = TimeSpan.FromSeconds(-1) },
        { "OcspProxyOptions.Limits.UpstreamTimeout", o => o.Limits.UpstreamTimeout = TimeSpan.Zero },
        { "OcspProxyOptions.PrunePolicy", o => o.PrunePolicy = null! },
        { "OcspProxyOptions.AllowedResponders", o => o.AllowedResponders.Add(new Uri("ftp://responder.test/")) },
    };

    [Theory]
    [MemberData(nameof(InvalidProxyOptions))]
    public void MapOcspProxy_InvalidOption_ThrowsNamingTheOption(string option, Action<OcspProxyOptions> configure)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddOcspStapling().UseMemoryOnly();
        using WebApplication app = builder.Build();

        var error = Assert.Throws<OptionsValidationException>(() => app.MapOcspProxy("/ocsp", configure));

        Assert.Contains(option, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UseHttpsWithOcspStapling_BothCertificateAndSelector_FailsStartSayingSo()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddOcspStapling().UseMemoryOnly();
        var options = new OcspStaplingHttpsOptions { ServerCertificate = fixture.NewLeaf("both"), ServerCertificateSelector = (_, _) => null };
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttpsWithOcspStapling(options)));

        var error = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            await using WebApplication app = builder.Build();
            await app.StartAsync();
        });

        Assert.Contains("set exactly one of ServerCertificate, ServerCertificateSource and ServerCertificateSelector", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HealthCheck_NegativeThreshold_FailsStartNamingTheOption()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddOcspStapling().UseMemoryOnly();
        builder.Services.AddHealthChecks().AddOcspStapling(configure: o => o.DegradedRemainingValidity = TimeSpan.FromHours(-1));
        await using WebApplication app = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains("ocsp-stapling.DegradedRemainingValidity", error.Message, StringComparison.Ordinal);
    }
}
