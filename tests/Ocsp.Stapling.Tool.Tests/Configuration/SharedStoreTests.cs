using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Microsoft.Extensions.Caching.Distributed;
using Ocsp.Stapling.PostgreSql;
using Ocsp.Stapling.Testing;
using StackExchange.Redis;

namespace Ocsp.Stapling.Tool.Tests.Configuration;

/// <summary><c>serve</c> and <c>renew</c> on a shared store given on the command line (<c>--redis</c>, <c>--postgres</c>).</summary>
public sealed class SharedStoreTests(ToolFixture fixture, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<ToolFixture>
{
    private static string? Redis => Environment.GetEnvironmentVariable("OCSP_STAPLING_REDIS") is { Length: > 0 } value ? value : null;

    private static string? Postgres => Environment.GetEnvironmentVariable("OCSP_STAPLING_POSTGRES") is { Length: > 0 } value ? value : null;

    [Fact]
    public async Task BadStoreOptions_Exit64WithTheReason()
    {
        ProgramResult two = await ToolFixture.RunToolAsync("serve", "--allow-responder", "http://ocsp.example/", "--cache", "/tmp/x", "--redis", "127.0.0.1:6379");
        ProgramResult redis = await ToolFixture.RunToolAsync("serve", "--allow-responder", "http://ocsp.example/", "--redis", "127.0.0.1:6379,nonsense=1");
        ProgramResult postgres = await ToolFixture.RunToolAsync("serve", "--allow-responder", "http://ocsp.example/", "--postgres", "Hots=db;Username=x");
        ProgramResult renew = await ToolFixture.RunToolAsync("renew", "--config", "/nonexistent.json", "--postgres", "Host=db", "--redis", "db:6379");

        Assert.True(two.ExitCode == 64, two.ToString());
        Assert.Contains("one shared store at most", two.StandardError, StringComparison.Ordinal);
        Assert.True(redis.ExitCode == 64, redis.ToString());
        Assert.Contains("--redis '127.0.0.1:6379,nonsense=1' is not a StackExchange.Redis configuration", redis.StandardError, StringComparison.Ordinal);
        Assert.True(postgres.ExitCode == 64, postgres.ToString());
        Assert.Contains("--postgres is not an Npgsql connection string", postgres.StandardError, StringComparison.Ordinal);
        Assert.True(renew.ExitCode == 64, renew.ToString());
    }

    [SkippableFact]
    public async Task TwoServeProcessesOnOneRedis_TheSecondAnswersFromTheStoreWithNoUpstreamRequest()
    {
        Skip.If(Redis is null, Requires.NoRedis);
        LeafFiles leaf = fixture.NewLeaf("redis-fleet");
        int before = fixture.Responder.RequestCount;

        await using (ServeProcess first = await ServeProcess.StartAsync("--redis", Redis!, "--cert", leaf.Chain))
        {
            Assert.Contains("responses shared through Redis", first.Output, StringComparison.Ordinal);
            Assert.Equal(OcspCertificateStatus.Good, await AskAsync(first, leaf));
        }

        int afterFirst = fixture.Responder.RequestCount;
        Assert.True(afterFirst > before);
        fixture.Responder.Fault = ResponderFault.Down;
        try
        {
            await using ServeProcess second = await ServeProcess.StartAsync("--redis", Redis!, "--cert", leaf.Chain);
            Assert.Equal(OcspCertificateStatus.Good, await AskAsync(second, leaf));
            Assert.Equal(afterFirst, fixture.Responder.RequestCount);
        }
        finally
        {
            fixture.Responder.Fault = ResponderFault.None;
        }
    }

    [SkippableTheory]
    [InlineData("--redis")]
    [InlineData("--postgres")]
    public async Task FleetOfServeWithCa_OnOneStore_TheSecondAnswersWithNoUpstreamRequest_AndAfterARestartWithTheResponderDown(string store)
    {
        string? connection = store == "--redis" ? Redis : Postgres;
        Skip.If(connection is null, store == "--redis" ? Requires.NoRedis : Requires.NoPostgres);
        LeafFiles leaf = fixture.NewLeaf("ca-fleet" + store);
        string[] arguments = [store, connection!, "--ca", fixture.IssuerFile, "--allow-responder", fixture.Responder.Url.AbsoluteUri];
        int before = fixture.Responder.RequestCount;

        await using (ServeProcess first = await ServeProcess.StartAsync(arguments))
        await using (ServeProcess second = await ServeProcess.StartAsync(arguments))
        {
            Assert.Equal(OcspCertificateStatus.Good, await AskAsync(first, leaf)); // Host: the proxy itself, so the CA's responder
            Assert.Equal(before + 1, fixture.Responder.RequestCount);
            Assert.Equal(OcspCertificateStatus.Good, await AskAsync(second, leaf));
            Assert.True(fixture.Responder.RequestCount == before + 1, $"the second serve went upstream:\n{second.Output}");
        }

        fixture.Responder.Fault = ResponderFault.Down;
        try
        {
            await using ServeProcess restarted = await ServeProcess.StartAsync(arguments);
            Assert.Equal(OcspCertificateStatus.Good, await AskAsync(restarted, leaf));
            Assert.Equal(before + 1, fixture.Responder.RequestCount);
        }
        finally
        {
            fixture.Responder.Fault = ResponderFault.None;
        }
    }

    [SkippableTheory]
    [InlineData("--cache")]
    [InlineData("--redis")]
    [InlineData("--postgres")]
    public async Task Serve_AHundredMegabyteValueWrittenIntoTheStore_IsRefusedUnread_TheProcessGrowsUnder64Megabytes(string store)
    {
        string? connection = store switch { "--redis" => Redis, "--postgres" => Postgres, _ => Path.Combine(fixture.Directory, $"poisoned-{Guid.NewGuid():N}") };
        Skip.If(connection is null, store == "--redis" ? Requires.NoRedis : Requires.NoPostgres);
        IDistributedCache writer = store switch
        {
            "--redis" => new RedisStore(ConfigurationOptions.Parse(connection)),
            "--postgres" => new PostgreSqlDistributedCache(new PostgreSqlCacheOptions { ConnectionString = connection }),
            _ => new FileSystemDistributedCache(connection),
        };
        LeafFiles[] poisoned = [fixture.NewLeaf("poisoned-1" + store), fixture.NewLeaf("poisoned-2" + store)];
        string[] keys = [.. poisoned.Select(l => new OcspSharedStoreOptions().KeyPrefix + OcspCertificateId.Create(l.Certificate, fixture.Pki.Intermediate).CacheKey)];
        try
        {
            // Whoever can write the store puts 100 MB under the keys of two certificates the proxy is about to be asked for.
            byte[] huge = new byte[100 * 1024 * 1024];
            foreach (string key in keys)
            {
                await writer.SetAsync(key, huge, new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromHours(1) });
            }

            await using ServeProcess serve = await ServeProcess.StartAsync(store, connection!, "--ca", fixture.IssuerFile, "--allow-responder", fixture.Responder.Url.AbsoluteUri);
            Assert.Equal(OcspCertificateStatus.Good, await AskAsync(serve, fixture.NewLeaf("clean" + store))); // warmed up
            long before = serve.PeakResidentBytes;

            foreach (LeafFiles leaf in poisoned)
            {
                Assert.Equal(OcspCertificateStatus.Good, await AskAsync(serve, leaf)); // the store's entry refused: asked of the responder
            }

            long grown = serve.PeakResidentBytes - before;
            output.WriteLine($"{store}: serve's peak resident memory {before / (1024 * 1024)} MB before, grew {grown / (1024 * 1024)} MB reading two 100 MB entries");
            Assert.True(grown < 64L * 1024 * 1024, $"serve's peak memory grew {grown / (1024 * 1024)} MB reading two 100 MB entries\n{serve.Output}");
            Assert.Contains("The entry holds at least 104857600 bytes", serve.Output, StringComparison.Ordinal);
            Assert.Equal(1, System.Text.RegularExpressions.Regex.Count(serve.Output, @"Ocsp\.Stapling\[22\]")); // logged once, the next at Debug
        }
        finally
        {
            foreach (string key in keys)
            {
                await writer.RemoveAsync(key);
            }

            (writer as IDisposable)?.Dispose();
        }
    }

    [Fact]
    public async Task Serve_RedisDownAtStart_AnswersFromTheResponder_AndSaysSoInTheLog()
    {
        using var nobody = new TcpListener(IPAddress.Loopback, 0);
        nobody.Start();
        int port = ((IPEndPoint)nobody.LocalEndpoint).Port;
        nobody.Stop(); // a free port: connections are refused
        LeafFiles leaf = fixture.NewLeaf("redis-down");

        await using ServeProcess proxy = await ServeProcess.StartAsync("--redis", $"127.0.0.1:{port},connectTimeout=500", "--cert", leaf.Chain);

        Assert.Equal(OcspCertificateStatus.Good, await AskAsync(proxy, leaf));
        Assert.Contains("Shared OCSP cache", proxy.Output, StringComparison.Ordinal);
    }

    private async Task<OcspCertificateStatus> AskAsync(ServeProcess proxy, LeafFiles leaf)
    {
        using var client = new HttpClient();
        using var content = new ByteArrayContent(OcspRequest.Create(leaf.Certificate, fixture.Pki.Intermediate).Encoded.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/ocsp-request");
        using HttpResponseMessage response = await client.PostAsync(proxy.Url, content);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        OcspValidationResult validation = OcspResponseValidator.Validate(
            await response.Content.ReadAsByteArrayAsync(), leaf.Certificate, fixture.Pki.Intermediate, TimeProvider.System.GetUtcNow());
        Assert.True(validation.IsValid, $"{validation.Message}\n{proxy.Output}");
        return validation.Staple!.Status;
    }
}
