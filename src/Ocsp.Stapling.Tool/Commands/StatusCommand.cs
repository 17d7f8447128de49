using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Ocsp.Stapling.Internal;
using Ocsp.Stapling.PostgreSql;
using StackExchange.Redis;

namespace Ocsp.Stapling.Tool;

/// <summary>
/// <c>status</c>: what a store (files, Redis, PostgreSQL) holds. With <c>--cert</c>, each certificate's entry validated in
/// full (signature, CertID, time); without, every entry of the store: validated in full when its CA is given with
/// <c>--ca</c>, else checked for its time window only (a signature needs the issuer). A table, or <c>--json</c>; exit 1 when a listed certificate has no valid response.
/// </summary>
internal static class StatusCommand
{
    private static readonly TimeSpan StoreTimeout = TimeSpan.FromSeconds(15);

    public static Command Create()
    {
        StoreOptions store = StoreOptions.Create("The directory of the response cache to list (default: the library's default directory); or --redis / --postgres.");
        var certs = new Option<string[]>("--cert") { Description = "Show only this certificate's entry, validated in full (repeatable; a chain file, or give --issuer)." };
        var issuers = new Option<string[]>("--issuer") { Description = "The issuer of the --cert at the same position (or give chain files as --cert)." };
        var cas = new Option<string[]>("--ca")
        {
            Description = "A CA certificate file (PEM or DER; a bundle gives several, repeatable): listed entries of its certificates are validated in full "
                + "(signature, CertID, time) instead of their time window only.",
        };
        var json = new Option<bool>("--json") { Description = "Write JSON (an array, one object per entry) instead of a table." };
        var command = new Command(
            "status",
            "List what a store holds: per entry the certificate or CertID, status, thisUpdate, nextUpdate, time left and whether it is valid now. Exit code: "
            + "0 every listed response valid (and good), 1 a listed certificate has no valid response, 2 a valid response says revoked or unknown, "
            + "64 bad command line, 65/66 unusable or missing certificate, 69 the store cannot be read.")
        {
            certs, issuers, cas, json,
        };
        store.AddTo(command);
        command.SetAction((result, cancellationToken) => ToolRunner.RunAsync(async () =>
        {
            StoreOptions.Choice shared = store.Parse(result);
            if (shared.Directory is { } directory && !Directory.Exists(directory))
            {
                throw new ToolException(ExitCodes.NoInput, $"--cache '{directory}': no such directory.");
            }

            CertificatePair[] pairs = CertificatePair.LoadAll(result.GetValue(certs) ?? [], result.GetValue(issuers) ?? []);
            X509Certificate2[] authorities = [.. (result.GetValue(cas) ?? []).SelectMany(CertificatePair.LoadAuthorities)];
            IReadOnlyList<StatusRow> rows = await ReadAsync(shared, pairs, authorities, cancellationToken).ConfigureAwait(false);
            if (result.GetValue(json))
            {
                WriteJson(rows);
            }
            else
            {
                WriteTable(rows, shared);
            }

            return rows.Any(r => !r.Valid) ? ExitCodes.NotValid
                : rows.Any(r => !r.IsCrl && r.Status is not nameof(OcspCertificateStatus.Good)) ? ExitCodes.NotGood
                : ExitCodes.Ok;
        }));
        return command;
    }

    private static async Task<IReadOnlyList<StatusRow>> ReadAsync(
        StoreOptions.Choice shared, CertificatePair[] pairs, X509Certificate2[] authorities, CancellationToken cancellationToken)
    {
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.None));
        shared.Apply(services.AddOcspStapling());
        await using ServiceProvider provider = services.BuildServiceProvider();
        IDistributedCache cache = provider.GetRequiredKeyedService<IDistributedCache>(OcspStaplingServiceKeys.SharedCache);
        string prefix = provider.GetRequiredService<IOptions<OcspStaplingOptions>>().Value.SharedStore.KeyPrefix;
        DateTimeOffset now = TimeProvider.System.GetUtcNow();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(StoreTimeout);
        try
        {
            var rows = new List<StatusRow>();
            if (pairs.Length > 0)
            {
                foreach (CertificatePair pair in pairs)
                {
                    OcspCertificateId id = OcspCertificateId.Create(pair.Certificate, pair.Issuer);
                    string key = prefix + id.CacheKey;
                    rows.Add(StatusRow.ForCertificate(pair, id, key, await cache.GetAsync(key, timeout.Token).ConfigureAwait(false), now));
                }

                return rows;
            }

            foreach (string key in await ListKeysAsync(shared, cache, prefix, timeout.Token).ConfigureAwait(false))
            {
                if (await cache.GetAsync(key, timeout.Token).ConfigureAwait(false) is { } value)
                {
                    rows.Add(key[prefix.Length..].StartsWith("crl:", StringComparison.Ordinal)
                        ? StatusRow.ForCrl(key, value, authorities, now)
                        : StatusRow.ForEntry(key, key[prefix.Length..], value, authorities, now));
                }
            }

            return [.. rows.OrderBy(r => r.Certificate, StringComparer.Ordinal)];
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ToolException(ExitCodes.FetchFailed, $"The store ({shared.Describe()}) did not answer within {StoreTimeout.TotalSeconds:0} s.");
        }
        catch (Exception ex) when (ex is RedisException or NpgsqlException or IOException or UnauthorizedAccessException)
        {
            throw new ToolException(ExitCodes.FetchFailed, $"Cannot read the store ({shared.Describe()}): {ex.Message}");
        }
    }

    /// <summary>The keys under <paramref name="prefix"/> that the store holds now: files listed, Redis SCANned (primaries only), PostgreSQL queried.</summary>
    private static async Task<IReadOnlyList<string>> ListKeysAsync(StoreOptions.Choice shared, IDistributedCache cache, string prefix, CancellationToken cancellationToken)
    {
        switch (cache)
        {
            case FileSystemDistributedCache files:
                return [.. files.GetKeys().Where(k => k.StartsWith(prefix, StringComparison.Ordinal))];

            case PostgreSqlDistributedCache postgres:
                await using (var connection = new NpgsqlConnection(shared.Postgres))
                {
                    await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
                    await using var command = new NpgsqlCommand(
                        $"SELECT id FROM {postgres.QualifiedTableName} WHERE (expires_at IS NULL OR expires_at > now()) AND starts_with(id, @prefix)", connection);
                    command.Parameters.AddWithValue("prefix", prefix);
                    var keys = new List<string>();
                    try
                    {
                        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                        {
                            keys.Add(reader.GetString(0));
                        }
                    }
                    catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UndefinedTable)
                    {
                        return []; // nobody has written to this store yet
                    }

                    return keys;
                }

            case not null when shared.Redis is not null:
                ConfigurationOptions options = ConfigurationOptions.Parse(shared.Redis);
                options.AbortOnConnectFail = true;
                options.ConnectTimeout = (int)StoreTimeout.TotalMilliseconds;
                await using (ConnectionMultiplexer redis = await ConnectionMultiplexer.ConnectAsync(options).WaitAsync(cancellationToken).ConfigureAwait(false))
                {
                    var keys = new HashSet<string>(StringComparer.Ordinal);
                    foreach (EndPoint endpoint in redis.GetEndPoints())
                    {
                        IServer server = redis.GetServer(endpoint);
                        if (server.IsConnected && !server.IsReplica)
                        {
                            await foreach (RedisKey key in server.KeysAsync(options.DefaultDatabase ?? 0, pattern: prefix + "*").WithCancellation(cancellationToken).ConfigureAwait(false))
                            {
                                keys.Add(key.ToString());
                            }
                        }
                    }

                    return [.. keys];
                }

            default:
                throw new ToolException(ExitCodes.Usage, "This store cannot be listed: give the certificates to look up with --cert.");
        }
    }

    private static void WriteTable(IReadOnlyList<StatusRow> rows, StoreOptions.Choice shared)
    {
        if (rows.Count == 0)
        {
            Console.WriteLine($"No OCSP response in {shared.Describe()}.");
            return;
        }

        string[] header = ["CERTIFICATE", "STATUS", "THIS UPDATE", "NEXT UPDATE", "LEFT", "VALID NOW"];
        string[][] table = [header, .. rows.Select(r => new[]
        {
            r.Certificate,
            r.IsCrl ? $"CRL #{r.CrlNumber ?? "-"}, {r.Entries} entries" : r.Status,
            Time(r.ThisUpdate),
            Time(r.NextUpdate),
            r.RemainingSeconds is { } left ? Left(TimeSpan.FromSeconds(left)) : "-",
            r.Valid ? "yes" + (r.Checked == "time" ? " (time only)" : string.Empty) : "NO: " + r.Reason,
        })];
        int[] widths = [.. Enumerable.Range(0, header.Length).Select(i => table.Max(line => line[i].Length))];
        foreach (string[] line in table)
        {
            Console.WriteLine(string.Join("  ", line.Select((cell, i) => i == line.Length - 1 ? cell : cell.PadRight(widths[i]))).TrimEnd());
        }

        int invalid = rows.Count(r => !r.Valid);
        int crls = rows.Count(r => r.IsCrl);
        string what = crls == 0 ? $"{rows.Count} response(s)" : $"{rows.Count - crls} response(s) and {crls} CRL(s)";
        Console.WriteLine(invalid == 0 ? $"{what}, all valid now." : crls == 0 ? $"{what}, {invalid} without a valid response." : $"{what}, {invalid} not valid now.");
        if (rows.Any(r => r.Checked == "time"))
        {
            Console.WriteLine("Entries marked \"time only\" were checked for their time window; give their CA with --ca (or --cert) to validate signatures.");
        }

        static string Time(DateTimeOffset? time) => time?.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) ?? "-";

        static string Left(TimeSpan span) => span.TotalDays >= 1
            ? string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalDays}d{span.Hours}h")
            : string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalHours}h{span.Minutes}m");
    }

    private static void WriteJson(IReadOnlyList<StatusRow> rows)
    {
        using Stream output = Console.OpenStandardOutput();
        using (var writer = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartArray();
            foreach (StatusRow row in rows)
            {
                writer.WriteStartObject();
                writer.WriteString("kind", row.IsCrl ? "crl" : "response");
                writer.WriteString("certificate", row.Certificate);
                writer.WriteString("key", row.Key);
                Nullable(writer, "serialNumber", row.SerialNumber);
                writer.WriteString("status", row.Status);
                NullableTime(writer, "thisUpdate", row.ThisUpdate);
                NullableTime(writer, "nextUpdate", row.NextUpdate);
                NullableTime(writer, "producedAt", row.ProducedAt);
                NullableTime(writer, "fetchedAt", row.FetchedAt);
                if (row.RemainingSeconds is { } left)
                {
                    writer.WriteNumber("remainingSeconds", left);
                }
                else
                {
                    writer.WriteNull("remainingSeconds");
                }

                if (row.IsCrl)
                {
                    Nullable(writer, "crlNumber", row.CrlNumber);
                    writer.WriteNumber("entries", row.Entries);
                }

                writer.WriteBoolean("validNow", row.Valid);
                writer.WriteString("checked", row.Checked);
                Nullable(writer, "reason", row.Reason);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        output.Write("\n"u8);

        static void Nullable(Utf8JsonWriter writer, string name, string? value)
        {
            if (value is null)
            {
                writer.WriteNull(name);
            }
            else
            {
                writer.WriteString(name, value);
            }
        }

        static void NullableTime(Utf8JsonWriter writer, string name, DateTimeOffset? value)
        {
            if (value is { } time)
            {
                writer.WriteString(name, time);
            }
            else
            {
                writer.WriteNull(name);
            }
        }
    }

    /// <summary>One entry as the command shows it.</summary>
    private sealed record StatusRow(
        string Certificate,
        string Key,
        string? SerialNumber,
        string Status,
        DateTimeOffset? ThisUpdate,
        DateTimeOffset? NextUpdate,
        DateTimeOffset? ProducedAt,
        DateTimeOffset? FetchedAt,
        long? RemainingSeconds,
        bool Valid,
        string Checked,
        string? Reason)
    {
        /// <summary>Gets a value indicating whether the entry is a CRL (held for client-certificate checks), not an OCSP response.</summary>
        public bool IsCrl { get; init; }

        public string? CrlNumber { get; init; }

        public int Entries { get; init; }

        /// <summary>
        /// A CRL entry (<c>crl:…</c>): its issuer, number, times and entries; its signature verified when a <c>--ca</c> is its
        /// issuer, else its time window only.
        /// </summary>
        public static StatusRow ForCrl(string key, byte[] value, X509Certificate2[] authorities, DateTimeOffset now)
        {
            ParsedCrl crl;
            try
            {
                crl = ParsedCrl.Parse(value);
            }
            catch (OcspFormatException ex)
            {
                return new StatusRow("CRL (unreadable)", key, null, "malformed", null, null, null, null, null, false, "time", ex.Message) { IsCrl = true };
            }

            string issuer = CrlValidation.IssuerName(crl);
            X509Certificate2? ca = authorities.FirstOrDefault(a => a.SubjectName.RawData.AsSpan().SequenceEqual(crl.Issuer.Span));
            string? reason = crl.ThisUpdate > now + TimeSpan.FromMinutes(5) ? $"thisUpdate {crl.ThisUpdate:u} is in the future"
                : crl.NextUpdate is not { } next ? "no nextUpdate"
                : next <= now ? $"nextUpdate {next:u} has passed"
                : ca is not null && !OcspSignatures.VerifyCrl(crl.Encoded, crl.Signed, crl.SignatureAlgorithm, crl.SignatureParameters, crl.Signature, ca) ? "its signature does not verify with the --ca given"
                : null;
            return new StatusRow(
                $"CRL of {issuer}", key, null, "crl", crl.ThisUpdate, crl.NextUpdate, null, null, crl.NextUpdate is { } n ? Left(n, now) : null,
                reason is null, ca is null ? "time" : "signature", reason)
            {
                IsCrl = true,
                CrlNumber = crl.Number?.ToString(CultureInfo.InvariantCulture),
                Entries = crl.Revoked.Count,
            };
        }

        /// <summary>A --cert's entry, validated in full against the certificate and its issuer.</summary>
        public static StatusRow ForCertificate(CertificatePair pair, OcspCertificateId id, string key, byte[]? value, DateTimeOffset now)
        {
            string serial = id.SerialNumberHex;
            if (value is null)
            {
                return new(pair.Name, key, serial, "missing", null, null, null, null, null, false, "signature", "no entry in the store");
            }

            if (!StapleCacheEntry.TryDeserialize(value, out DateTimeOffset fetchedAt, out ReadOnlyMemory<byte> der))
            {
                return new(pair.Name, key, serial, "unreadable", null, null, null, null, null, false, "signature", "not an Ocsp.Stapling entry");
            }

            return Validated(pair.Name, key, serial, der, fetchedAt, now, OcspResponseValidator.Validate(der, pair.Certificate, pair.Issuer, now));
        }

        /// <summary>
        /// An entry of a listing: validated in full against the <c>--ca</c> its key names (hash algorithm, issuer key hash,
        /// serial), else its time window only (a signature needs the issuer).
        /// </summary>
        public static StatusRow ForEntry(string key, string certificateKey, byte[] value, X509Certificate2[] authorities, DateTimeOffset now)
        {
            string name = "CertID " + certificateKey;
            if (!StapleCacheEntry.TryDeserialize(value, out DateTimeOffset fetchedAt, out ReadOnlyMemory<byte> der))
            {
                return new(name, key, null, "unreadable", null, null, null, null, null, false, "time", "not an Ocsp.Stapling entry");
            }

            if (Named(certificateKey, authorities) is not ({ } id, { } issuer))
            {
                return FromResponse(name, key, der, fetchedAt, now);
            }

            return Validated(name, key, id.SerialNumberHex, der, fetchedAt, now, OcspResponseValidator.Validate(der, id, issuer, now));
        }

        /// <summary>A row checked in full: the validated staple's values, or the response's own with the rejection's reason.</summary>
        private static StatusRow Validated(
            string name, string key, string serial, ReadOnlyMemory<byte> der, DateTimeOffset fetchedAt, DateTimeOffset now, OcspValidationResult validation)
        {
            if (!validation.IsValid)
            {
                return FromResponse(name, key, der, fetchedAt, now) with { Valid = false, Checked = "signature", Reason = $"{validation.Failure}: {validation.Message}" };
            }

            OcspStaple staple = validation.Staple;
            return new(
                name, key, serial, staple.Status.ToString(), staple.ThisUpdate, staple.NextUpdate, staple.ProducedAt, fetchedAt,
                Left(staple.NextUpdate, now), true, "signature", null);
        }

        /// <summary>The CertID a key names (<c>sha1-&lt;issuer key hash&gt;-&lt;serial&gt;</c>) with the CA it names, or nothing when no <c>--ca</c> matches.</summary>
        private static (OcspCertificateId? Id, X509Certificate2? Issuer) Named(string certificateKey, X509Certificate2[] authorities)
        {
            string[] parts = certificateKey.Split('-');
            if (authorities.Length == 0 || parts.Length != 3 || !Enum.TryParse(parts[0], ignoreCase: true, out OcspHashAlgorithm algorithm)
                || parts[2].Length % 2 != 0 || !parts[2].All(char.IsAsciiHexDigit))
            {
                return (null, null);
            }

            byte[] serial = Convert.FromHexString(parts[2]);
            foreach (X509Certificate2 authority in authorities)
            {
                OcspCertificateId id = OcspCertificateId.Create(authority, serial, algorithm);
                if (string.Equals(id.CacheKey, certificateKey, StringComparison.Ordinal))
                {
                    return (id, authority);
                }
            }

            return (null, null);
        }

        private static StatusRow FromResponse(string name, string key, ReadOnlyMemory<byte> der, DateTimeOffset fetchedAt, DateTimeOffset now)
        {
            OcspResponse response;
            try
            {
                response = OcspResponse.Parse(der.Span);
            }
            catch (OcspFormatException ex)
            {
                return new(name, key, null, "malformed", null, null, null, fetchedAt, null, false, "time", ex.Message);
            }

            if (response.Status != OcspResponseStatus.Successful || response.Responses is not [OcspSingleResponse single, ..])
            {
                return new(name, key, null, response.Status.ToString(), null, null, response.ProducedAt, fetchedAt, null, false, "time", "no single response");
            }

            // The library's one validity rule (clock skew, nextUpdate), without the signature: no issuer is at hand.
            OcspValidationResult times = OcspResponseValidator.ValidateTimes(der, now);
            DateTimeOffset? next = single.NextUpdate;
            return new(
                name, key, single.CertificateId.SerialNumberHex, single.Status.ToString(), single.ThisUpdate, next, response.ProducedAt, fetchedAt,
                next is { } n ? Left(n, now) : null, times.IsValid, "time", times.IsValid ? null : $"{times.Failure}: {times.Message}");
        }

        private static long Left(DateTimeOffset nextUpdate, DateTimeOffset now) => Math.Max(0, (long)(nextUpdate - now).TotalSeconds);
    }
}
