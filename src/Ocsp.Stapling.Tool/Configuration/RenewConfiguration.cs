using System.Globalization;
using System.Text.Json;

namespace Ocsp.Stapling.Tool;

/// <summary>
/// The <c>renew</c> configuration file (JSON):
/// <code>
/// { "minimum-validity": "3d", "minimum-validity-percentage": 42.8, "backup": false,
///   "certificates": [ { "cert": "/etc/ssl/site.pem", "issuer": "/etc/ssl/ca.pem", "output": "/etc/ssl/site.pem.ocsp", "url": null,
///                       "haproxy-socket": "/run/haproxy/admin.sock" } ],
///   "crls": [ { "ca": "/etc/ssl/client-ca.pem", "url": "http://ca.example/ca.crl", "output": "/etc/ssl/client-ca.crl.pem",
///               "haproxy-socket": "/run/haproxy/admin.sock" } ] }
/// </code>
/// At least one of <c>certificates</c> and <c>crls</c>.
/// Relative paths are relative to the file. Unknown keys are errors (a typo must not silently disable renewal).
/// </summary>
internal sealed record RenewConfiguration(TimeSpan MinimumValidity, double MinimumValidityPercentage, bool Backup, IReadOnlyList<RenewEntry> Certificates)
{
    private static readonly string[] TopKeys = ["minimum-validity", "minimum-validity-percentage", "backup", "certificates", "crls"];
    private static readonly string[] EntryKeys = ["cert", "issuer", "output", "url", "haproxy-socket"];
    private static readonly string[] CrlKeys = ["ca", "url", "output", "haproxy-socket"];

    /// <summary>Gets the CRL files to keep (nginx <c>ssl_crl</c>, HAProxy <c>crl-file</c>).</summary>
    public IReadOnlyList<CrlFileEntry> Crls { get; init; } = [];

    public static RenewConfiguration Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new ToolException(ExitCodes.NoInput, $"Configuration '{path}': no such file.");
        }

        try
        {
            using JsonDocument document = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            JsonElement root = document.RootElement;
            Expect(root, JsonValueKind.Object, "the file");
            CheckKeys(root, TopKeys, "the top level");
            string baseDirectory = Path.GetDirectoryName(Path.GetFullPath(path))!;

            TimeSpan minimum = root.TryGetProperty("minimum-validity", out JsonElement m) ? ParseDuration(m) : TimeSpan.FromDays(3);
            double percentage = root.TryGetProperty("minimum-validity-percentage", out JsonElement p) ? p.GetDouble() : 42.8;
            if (percentage is < 0 or > 100)
            {
                throw Error($"\"minimum-validity-percentage\" must be between 0 and 100, not {percentage.ToString(CultureInfo.InvariantCulture)}.");
            }

            bool backup = root.TryGetProperty("backup", out JsonElement b) && b.GetBoolean();
            bool hasCertificates = root.TryGetProperty("certificates", out JsonElement list);
            bool hasCrls = root.TryGetProperty("crls", out JsonElement crlList);
            if ((hasCertificates && list.ValueKind != JsonValueKind.Array) || (hasCrls && crlList.ValueKind != JsonValueKind.Array)
                || (hasCertificates ? list.GetArrayLength() : 0) + (hasCrls ? crlList.GetArrayLength() : 0) == 0)
            {
                throw Error("\"certificates\" (response files) or \"crls\" (CRL files) must be a non-empty array.");
            }

            var crls = new List<CrlFileEntry>();
            foreach (JsonElement item in hasCrls ? crlList.EnumerateArray().ToArray() : [])
            {
                Expect(item, JsonValueKind.Object, "each CRL");
                CheckKeys(item, CrlKeys, "a CRL");
                crls.Add(new CrlFileEntry(
                    Resolve(baseDirectory, Required(item, "ca", "a CRL"))!,
                    ResponderUrls.Parse(Required(item, "url", "a CRL"), $"Configuration '{path}': a CRL's \"url\""),
                    Resolve(baseDirectory, Required(item, "output", "a CRL"))!,
                    Optional(item, "haproxy-socket") is { } crlSocket ? HaProxySocket.Parse(SocketPath(baseDirectory, crlSocket), $"Configuration '{path}': \"haproxy-socket\"") : null));
            }

            var entries = new List<RenewEntry>();
            foreach (JsonElement item in hasCertificates ? list.EnumerateArray().ToArray() : [])
            {
                Expect(item, JsonValueKind.Object, "each certificate");
                CheckKeys(item, EntryKeys, "a certificate");
                string cert = Resolve(baseDirectory, Required(item, "cert"))!;
                entries.Add(new RenewEntry(
                    cert,
                    Resolve(baseDirectory, Optional(item, "issuer")),
                    Resolve(baseDirectory, Optional(item, "output")) ?? cert + ".ocsp",
                    Optional(item, "url") is { } url ? ResponderUrls.Parse(url, $"Configuration '{path}': \"url\"").ToString() : null,
                    Optional(item, "haproxy-socket") is { } socket ? HaProxySocket.Parse(SocketPath(baseDirectory, socket), $"Configuration '{path}': \"haproxy-socket\"") : null));
            }

            return new RenewConfiguration(minimum, percentage, backup, entries) { Crls = crls };
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException or IOException)
        {
            throw new ToolException(ExitCodes.Usage, $"Configuration '{path}': {ex.Message}");
        }
    }

    /// <summary>ocspbot's rule: renew when less than the minimum validity, or less than the percentage of the lifetime, is left.</summary>
    public bool NeedsRenewal(OcspStaple current, DateTimeOffset now)
    {
        TimeSpan left = current.NextUpdate - now;
        TimeSpan lifetime = current.NextUpdate - current.ThisUpdate;
        return left < MinimumValidity || left.TotalSeconds < lifetime.TotalSeconds * MinimumValidityPercentage / 100;
    }

    /// <summary>"3d", "12h", "90m", "30s", or a TimeSpan ("3.00:00:00").</summary>
    internal static TimeSpan ParseDuration(JsonElement value)
    {
        string text = value.ValueKind == JsonValueKind.String ? value.GetString()! : throw Error("\"minimum-validity\" must be a string such as \"3d\" or \"12h\".");
        return Durations.TryParse(text, out TimeSpan span)
            ? span
            : throw Error($"\"minimum-validity\" '{text}' is not a duration (e.g. \"3d\", \"12h\", \"3.00:00:00\").");
    }

    private static void CheckKeys(JsonElement element, string[] allowed, string where)
    {
        foreach (JsonProperty property in element.EnumerateObject())
        {
            if (!allowed.Contains(property.Name, StringComparer.Ordinal))
            {
                throw Error($"unknown key \"{property.Name}\" in {where} (allowed: {string.Join(", ", allowed)}).");
            }
        }
    }

    private static void Expect(JsonElement element, JsonValueKind kind, string what)
    {
        if (element.ValueKind != kind)
        {
            throw Error($"{what} must be a JSON {kind.ToString().ToLowerInvariant()}.");
        }
    }

    private static string Required(JsonElement item, string key, string what = "a certificate") =>
        Optional(item, key) ?? throw Error($"{what} has no \"{key}\".");

    private static string? Optional(JsonElement item, string key) =>
        item.TryGetProperty(key, out JsonElement value) && value.ValueKind != JsonValueKind.Null
            ? value.ValueKind == JsonValueKind.String ? value.GetString() : throw Error($"\"{key}\" must be a string.")
            : null;

    private static string? Resolve(string baseDirectory, string? path) => path is null ? null : Path.GetFullPath(path, baseDirectory);

    /// <summary>A unix socket path relative to the file, as other paths are; <c>host:port</c> as given.</summary>
    private static string SocketPath(string baseDirectory, string socket) =>
        socket.Contains('/', StringComparison.Ordinal) ? Path.GetFullPath(socket, baseDirectory) : socket;

    private static InvalidOperationException Error(string message) => new(message);
}

/// <summary>One CA's CRL to keep a file of (PEM), from <paramref name="Url"/>, validated with <paramref name="Ca"/>.</summary>
internal sealed record CrlFileEntry(string Ca, Uri Url, string Output, HaProxySocket? HaProxySocket);

/// <summary>One certificate to keep a response file for.</summary>
internal sealed record RenewEntry(string Certificate, string? Issuer, string Output, string? Url, HaProxySocket? HaProxySocket = null);
