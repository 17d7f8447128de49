using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Npgsql;
using Ocsp.Stapling.Internal;
using Ocsp.Stapling.Testing;
using StackExchange.Redis;

namespace Ocsp.Stapling.Tool.Tests.Commands;

/// <summary>
/// <c>ocsp-stapling status</c> on each store (issue 18): what <c>renew</c> stored is listed (a table, or JSON) with the
/// response's own values; <c>--cert</c> validates one certificate's entry in full; a certificate without a valid
/// response makes the exit code 1. Redis and PostgreSQL get a store of their own (a database index, a database).
/// </summary>
public sealed class StatusCommandTests(ToolFixture fixture) : IClassFixture<ToolFixture>
{
    private static string? Redis => Environment.GetEnvironmentVariable("OCSP_STAPLING_REDIS") is { Length: > 0 } value ? value : null;

    private static string? Postgres => Environment.GetEnvironmentVariable("OCSP_STAPLING_POSTGRES") is { Length: > 0 } value ? value : null;

    [Fact]
    public async Task Status_ListsACrlInTheStore_TimeOnly_OrItsSignatureWithItsCa_AndAForgedOneIsNotValid()
    {
        string directory = Directory.CreateTempSubdirectory("ocsp-status-crl-").FullName;
        DateTimeOffset now = DateTimeOffset.UtcNow;
        X509Certificate2 listed = fixture.Pki.IssueClient("status-crl-listed", null);
        byte[] crl = TestCrls.Build(fixture.Pki.Intermediate, 42, now.AddHours(-1), now.AddDays(1), listed);
        var store = new FileSystemDistributedCache(directory, TimeProvider.System);
        var expires = new Microsoft.Extensions.Caching.Distributed.DistributedCacheEntryOptions { AbsoluteExpiration = now.AddDays(1) };
        await store.SetAsync("ocsp-stapling:crl:" + new string('a', 64) + ":" + new string('b', 16), crl, expires);

        ProgramResult table = await ToolFixture.RunToolAsync("status", "--cache", directory);
        ProgramResult verified = await ToolFixture.RunToolAsync("status", "--cache", directory, "--ca", fixture.IssuerFile, "--json");

        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains($"CRL of {fixture.Pki.Intermediate.Subject}", table.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("CRL #42, 1 entries", table.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("0 response(s) and 1 CRL(s), all valid now.", table.StandardOutput, StringComparison.Ordinal);
        Assert.True(verified.ExitCode == 0, verified.ToString());
        using (JsonDocument listing = JsonDocument.Parse(verified.StandardOutput))
        {
            JsonElement entry = Assert.Single(listing.RootElement.EnumerateArray().ToArray());
            Assert.Equal(("crl", "42", 1, "signature", true), (entry.GetProperty("kind").GetString(), entry.GetProperty("crlNumber").GetString(), entry.GetProperty("entries").GetInt32(), entry.GetProperty("checked").GetString(), entry.GetProperty("validNow").GetBoolean()));
        }

        // The same CRL with one bit of its signature flipped: listed, not valid with its CA, exit 1.
        crl[^3] ^= 0x01;
        await store.SetAsync("ocsp-stapling:crl:" + new string('a', 64) + ":" + new string('b', 16), crl, expires);
        ProgramResult forged = await ToolFixture.RunToolAsync("status", "--cache", directory, "--ca", fixture.IssuerFile);
        Assert.True(forged.ExitCode == 1, forged.ToString());
        Assert.Contains("NO: its signature does not verify", forged.StandardOutput, StringComparison.Ordinal);
    }

    [SkippableTheory]
    [InlineData("--cache")]
    [InlineData("--redis")]
    [InlineData("--postgres")]
    public async Task Status_ListsWhatRenewStored_TableAndJson_CertValidatedInFull_MissingExits1(string store)
    {
        string location = await NewStoreAsync(store);
        LeafFiles first = fixture.NewLeaf("status-a" + store);
        LeafFiles second = fixture.NewLeaf("status-b" + store);
        LeafFiles never = fixture.NewLeaf("status-never" + store);
        string config = Path.Combine(first.Directory, "stapling.json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new { certificates = new[] { new { cert = first.Chain, output = first.Ocsp }, new { cert = second.Chain, output = second.Ocsp } } }));
        ProgramResult renewed = await ToolFixture.RunToolAsync("renew", "--config", config, store, location);
        Assert.True(renewed.ExitCode == 2, renewed.ToString());

        // The table: both entries, good, valid now (time only without --cert).
        ProgramResult table = await ToolFixture.RunToolAsync("status", store, location);
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Matches(@"^CERTIFICATE\s+STATUS\s+THIS UPDATE\s+NEXT UPDATE\s+LEFT\s+VALID NOW", table.StandardOutput);
        Assert.Contains("2 response(s), all valid now.", table.StandardOutput, StringComparison.Ordinal);

        // JSON: the values are the stored responses' own (time left as of when status ran: after askedAt).
        DateTimeOffset askedAt = DateTimeOffset.UtcNow;
        ProgramResult json = await ToolFixture.RunToolAsync("status", store, location, "--json");
        Assert.True(json.ExitCode == 0, json.ToString());
        using JsonDocument listing = JsonDocument.Parse(json.StandardOutput);
        Assert.Equal(2, listing.RootElement.GetArrayLength());
        foreach (LeafFiles site in new[] { first, second })
        {
            OcspSingleResponse expected = OcspResponse.Parse(await File.ReadAllBytesAsync(site.Ocsp)).Responses[0];
            JsonElement entry = listing.RootElement.EnumerateArray().Single(e => e.GetProperty("serialNumber").GetString() == expected.CertificateId.SerialNumberHex);
            Assert.Equal("Good", entry.GetProperty("status").GetString());
            Assert.Equal(expected.ThisUpdate, entry.GetProperty("thisUpdate").GetDateTimeOffset());
            Assert.Equal(expected.NextUpdate, entry.GetProperty("nextUpdate").GetDateTimeOffset());
            Assert.True(entry.GetProperty("validNow").GetBoolean());
            Assert.Equal("time", entry.GetProperty("checked").GetString());
            Assert.InRange(entry.GetProperty("remainingSeconds").GetInt64(), 1, (long)(expected.NextUpdate!.Value - askedAt).TotalSeconds + 1);
            Assert.Equal("ocsp-stapling:" + expected.CertificateId.CacheKey, entry.GetProperty("key").GetString());
        }

        // --ca: the listing validated in full against the CA the keys name.
        ProgramResult withCa = await ToolFixture.RunToolAsync("status", store, location, "--ca", fixture.IssuerFile, "--json");
        Assert.True(withCa.ExitCode == 0, withCa.ToString());
        using JsonDocument full = JsonDocument.Parse(withCa.StandardOutput);
        Assert.All(full.RootElement.EnumerateArray(), e => Assert.Equal("signature", e.GetProperty("checked").GetString()));
        Assert.All(full.RootElement.EnumerateArray(), e => Assert.True(e.GetProperty("validNow").GetBoolean()));

        // --cert: validated against the certificate and its issuer (a chain file).
        ProgramResult one = await ToolFixture.RunToolAsync("status", store, location, "--cert", first.Chain, "--json");
        Assert.True(one.ExitCode == 0, one.ToString());
        using JsonDocument validated = JsonDocument.Parse(one.StandardOutput);
        JsonElement row = Assert.Single(validated.RootElement.EnumerateArray());
        Assert.Equal(CertificateNames.DisplayName(first.Certificate), row.GetProperty("certificate").GetString());
        Assert.Equal("signature", row.GetProperty("checked").GetString());
        Assert.True(row.GetProperty("validNow").GetBoolean());

        // A certificate the store holds nothing for: exit 1, and why.
        ProgramResult missing = await ToolFixture.RunToolAsync("status", store, location, "--cert", first.Chain, "--cert", never.Chain);
        Assert.True(missing.ExitCode == 1, missing.ToString());
        Assert.Contains("NO: no entry in the store", missing.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("2 response(s), 1 without a valid response.", missing.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_MissingDirectory66_EmptyStore0_TamperedEntryWithCert_NotValid_Exits1()
    {
        string cache = Path.Combine(fixture.Directory, "status-tampered-" + Guid.NewGuid().ToString("N"));
        LeafFiles site = fixture.NewLeaf("status-tampered");
        LeafFiles other = fixture.NewLeaf("status-other");
        ProgramResult missingDirectory = await ToolFixture.RunToolAsync("status", "--cache", cache);
        Assert.True(missingDirectory.ExitCode == 66, missingDirectory.ToString());
        Assert.Contains("no such directory", missingDirectory.StandardError, StringComparison.Ordinal);

        Directory.CreateDirectory(cache);
        ProgramResult empty = await ToolFixture.RunToolAsync("status", "--cache", cache);
        Assert.True(empty.ExitCode == 0, empty.ToString());
        Assert.Contains("No OCSP response in files in", empty.StandardOutput, StringComparison.Ordinal);

        string config = Path.Combine(site.Directory, "stapling.json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new { certificates = new[] { new { cert = other.Chain, output = other.Ocsp } } }));
        Assert.Equal(1, (await ToolFixture.RunToolAsync("renew", "--config", config, "--cache", cache)).ExitCode);

        // Another certificate's response stored under this certificate's key: a listing without the CA cannot tell; --cert and --ca can.
        var store = new FileSystemDistributedCache(cache);
        string otherKey = "ocsp-stapling:" + OcspCertificateId.Create(other.Certificate, fixture.Pki.Intermediate).CacheKey;
        string siteKey = "ocsp-stapling:" + OcspCertificateId.Create(site.Certificate, fixture.Pki.Intermediate).CacheKey;
        await store.SetAsync(siteKey, (await store.GetAsync(otherKey))!, new() { AbsoluteExpirationRelativeToNow = TimeSpan.FromDays(1) });

        ProgramResult checkedInFull = await ToolFixture.RunToolAsync("status", "--cache", cache, "--cert", site.Chain);
        Assert.True(checkedInFull.ExitCode == 1, checkedInFull.ToString());
        Assert.Contains("NO: CertificateIdMismatch", checkedInFull.StandardOutput, StringComparison.Ordinal);

        ProgramResult timeOnly = await ToolFixture.RunToolAsync("status", "--cache", cache);
        Assert.True(timeOnly.ExitCode == 0, timeOnly.ToString()); // a listing without the CA cannot tell
        Assert.Contains("yes (time only)", timeOnly.StandardOutput, StringComparison.Ordinal);
        ProgramResult listedWithCa = await ToolFixture.RunToolAsync("status", "--cache", cache, "--ca", fixture.IssuerFile);
        Assert.True(listedWithCa.ExitCode == 1, listedWithCa.ToString());
        Assert.Contains("NO: CertificateIdMismatch", listedWithCa.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("2 response(s), 1 without a valid response.", listedWithCa.StandardOutput, StringComparison.Ordinal);
    }

    /// <summary>A store of this test's own: a new directory, a Redis database index nobody else uses, a new PostgreSQL database.</summary>
    private async Task<string> NewStoreAsync(string store)
    {
        switch (store)
        {
            case "--cache":
                return Path.Combine(fixture.Directory, "status-" + Guid.NewGuid().ToString("N"));
            case "--redis":
                Skip.If(Redis is null, Requires.NoRedis);
                int index = Random.Shared.Next(1, 16);
                await using (ConnectionMultiplexer redis = await ConnectionMultiplexer.ConnectAsync(Redis + ",allowAdmin=true"))
                {
                    await redis.GetServer(redis.GetEndPoints()[0]).FlushDatabaseAsync(index); // left over from an earlier run
                }

                return $"{Redis},defaultDatabase={index}";
            default:
                Skip.If(Postgres is null, Requires.NoPostgres);
                string database = "status_" + Guid.NewGuid().ToString("N");
                await using (var connection = new NpgsqlConnection(Postgres))
                {
                    await connection.OpenAsync();
                    await using var create = new NpgsqlCommand($"CREATE DATABASE {database}", connection);
                    await create.ExecuteNonQueryAsync();
                }

                return new NpgsqlConnectionStringBuilder(Postgres) { Database = database }.ConnectionString;
        }
    }
}
