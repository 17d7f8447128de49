using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Ocsp.Stapling.Internal;

namespace Ocsp.Stapling.AspNetCore.Internal;

/// <summary>
/// A snapshot of every registered certificate's stapling state, judged as the health check judges it: the data of the
/// status page (JSON and HTML) and of the health response writer. Written by hand with <see cref="Utf8JsonWriter"/>:
/// the schema is a contract (documented in the README), not whatever a serializer makes of internal types.
/// </summary>
internal sealed class OcspStaplingStatusReport
{
    private OcspStaplingStatusReport(
        DateTimeOffset generatedAt, HealthStatus status, string? tlsUnsupported, bool tlsInUse, IReadOnlyList<Row> rows, IReadOnlyList<OcspClientCertificateState> clients,
        IReadOnlyList<OcspCrlState> crls)
    {
        Crls = crls;
        GeneratedAt = generatedAt;
        Status = status;
        TlsUnsupportedReason = tlsUnsupported;
        TlsInUse = tlsInUse;
        Rows = rows;
        ClientCertificates = clients;
    }

    /// <summary>How many certificates are written between two flushes of the JSON.</summary>
    public const int FlushEvery = 256;

    /// <summary>How many certificates the HTML page shows at most (the worst first); the JSON has them all.</summary>
    public const int MaxHtmlRows = 500;

    public DateTimeOffset GeneratedAt { get; }

    /// <summary>The worst certificate's health (certificates a proxy registered by CertID count as the health check counts them: not at all).</summary>
    public HealthStatus Status { get; }

    /// <summary>Why the TLS component cannot staple on this runtime, or <see langword="null"/> when it can.</summary>
    public string? TlsUnsupportedReason { get; }

    /// <summary>Whether a TLS server (Kestrel, an SslStream server) staples through this process at all.</summary>
    public bool TlsInUse { get; }

    public IReadOnlyList<Row> Rows { get; }

    /// <summary>The client certificates kept for revocation checks (their own section: they are not stapled or judged), most recently checked first.</summary>
    public IReadOnlyList<OcspClientCertificateState> ClientCertificates { get; }

    /// <summary>The CRLs held for client-certificate checks, one per CA and distribution point.</summary>
    public IReadOnlyList<OcspCrlState> Crls { get; }

    /// <summary>
    /// Judges every certificate of <paramref name="states"/> as the health check does; the report's status is the worst of
    /// the leaf certificates (CertIDs a proxy registered are listed, not judged), and TLS stapling being off where a TLS
    /// server uses it is Degraded, <paramref name="failure"/> with a must-staple certificate.
    /// </summary>
    public static OcspStaplingStatusReport Create(
        IEnumerable<OcspCertificateState> states,
        OcspStaplingContexts? contexts,
        TimeProvider time,
        TimeSpan degradedRemainingValidity,
        HealthStatus failure,
        ClientCertificateValidator? clients = null)
    {
        DateTimeOffset now = time.GetUtcNow();
        HashSet<string> served = contexts is null ? [] : [.. contexts.Certificates.Select(c => c.Certificate.Thumbprint)];
        string? unsupported = contexts?.Unsupported?.Detail;
        bool tlsInUse = served.Count > 0;
        bool tlsOff = tlsInUse && unsupported is not null;
        HealthStatus worst = HealthStatus.Healthy;
        var rows = new List<Row>();
        foreach (OcspCertificateState state in states)
        {
            if (state.Certificate is null && clients is not null && clients.IsClientCertificate(state.CertificateId))
            {
                continue; // listed with the client certificates
            }

            (HealthStatus health, string summary) = OcspCertificateHealth.Assess(state, now, degradedRemainingValidity, failure);
            string tls = state.Certificate is { } certificate && served.Contains(certificate.Thumbprint)
                ? unsupported is null ? "on" : "off"
                : "none";
            if (state.Certificate is not null)
            {
                worst = health < worst ? health : worst; // HealthStatus: Unhealthy < Degraded < Healthy
                worst = tlsOff && state.IsMustStaple && failure < worst ? failure : worst;
            }

            rows.Add(new Row(state, state.DisplayName, health, summary, tls)); // the name once: the sort compares it often
        }

        worst = tlsOff && HealthStatus.Degraded < worst ? HealthStatus.Degraded : worst;

        // The worst first (HealthStatus: Unhealthy < Degraded < Healthy), then by name: what needs attention leads.
        rows.Sort(static (a, b) => a.Health != b.Health ? a.Health.CompareTo(b.Health) : StringComparer.OrdinalIgnoreCase.Compare(a.Name, b.Name));
        OcspClientCertificateState[] clientStates = clients is null ? [] : [.. clients.GetStates().OrderByDescending(c => c.LastChecked)];
        return new OcspStaplingStatusReport(now, worst, unsupported, tlsInUse, rows, clientStates, clients?.GetCrlStates() ?? []);
    }

    /// <summary>Writes the report as the status endpoint's JSON document.</summary>
    public async Task WriteJsonAsync(Utf8JsonWriter writer, CancellationToken cancellationToken)
    {
        writer.WriteStartObject();
        await WriteJsonPropertiesAsync(writer, cancellationToken).ConfigureAwait(false);
        writer.WriteEndObject();
    }

    /// <summary>
    /// Writes the report's properties into an object already started (the health writer nests them), flushing every
    /// <see cref="FlushEvery"/> certificates: a proxy's 100,000 are streamed, not buffered whole.
    /// </summary>
    public async Task WriteJsonPropertiesAsync(Utf8JsonWriter writer, CancellationToken cancellationToken)
    {
        writer.WriteString("generatedAt", GeneratedAt);
        writer.WriteString("status", Status.ToString());
        writer.WriteStartObject("tlsStapling");
        writer.WriteBoolean("inUse", TlsInUse);
        writer.WriteBoolean("supported", TlsUnsupportedReason is null);
        WriteStringOrNull(writer, "reason", TlsUnsupportedReason);
        writer.WriteEndObject();
        writer.WriteStartArray("certificates");
        for (int i = 0; i < Rows.Count; i++)
        {
            Rows[i].WriteJson(writer, GeneratedAt);
            if (i % FlushEvery == FlushEvery - 1)
            {
                await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        writer.WriteEndArray();
        writer.WriteStartArray("clientCertificates");
        for (int i = 0; i < ClientCertificates.Count; i++)
        {
            WriteClientJson(writer, ClientCertificates[i], GeneratedAt);
            if (i % FlushEvery == FlushEvery - 1)
            {
                await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        writer.WriteEndArray();
        writer.WriteStartArray("crls");
        foreach (OcspCrlState crl in Crls)
        {
            writer.WriteStartObject();
            writer.WriteString("issuer", crl.Issuer);
            writer.WriteString("url", crl.Url.AbsoluteUri);
            WriteStringOrNull(writer, "number", crl.Number?.ToString(CultureInfo.InvariantCulture));
            writer.WriteString("thisUpdate", crl.ThisUpdate);
            writer.WriteString("nextUpdate", crl.NextUpdate);
            writer.WriteNumber("remainingSeconds", Math.Max(0, (long)(crl.NextUpdate - GeneratedAt).TotalSeconds));
            writer.WriteNumber("entries", crl.Entries);
            writer.WriteString("heldSince", crl.HeldSince);
            WriteStringOrNull(writer, "lastFailure", crl.LastFailure);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    private static void WriteClientJson(Utf8JsonWriter writer, OcspClientCertificateState client, DateTimeOffset now)
    {
        writer.WriteStartObject();
        writer.WriteString("subject", client.Certificate.Subject);
        writer.WriteString("issuer", client.Certificate.Issuer);
        writer.WriteString("serialNumber", client.CertificateId.SerialNumberHex);
        writer.WriteString("thumbprint", client.Certificate.Thumbprint);
        writer.WriteString("notAfter", new DateTimeOffset(client.Certificate.NotAfter.ToUniversalTime()));
        writer.WriteString("lastChecked", client.LastChecked);
        if (client.Response is { } response)
        {
            writer.WriteStartObject("response");
            writer.WriteString("status", response.Status.ToString());
            writer.WriteString("thisUpdate", response.ThisUpdate);
            writer.WriteString("nextUpdate", response.NextUpdate);
            writer.WriteNumber("remainingSeconds", Math.Max(0, (long)(response.NextUpdate - now).TotalSeconds));
            WriteTimeOrNull(writer, "revocationTime", response.RevocationTime);
            writer.WriteEndObject();
        }
        else
        {
            writer.WriteNull("response");
        }

        if (client.LastDecision is { } decision)
        {
            writer.WriteStartObject("lastDecision");
            writer.WriteBoolean("accepted", decision.IsAccepted);
            writer.WriteString("reason", decision.Reason.ToString());
            writer.WriteString("source", decision.Source.ToString());
            writer.WriteString("message", decision.Message);
            writer.WriteEndObject();
        }
        else
        {
            writer.WriteNull("lastDecision");
        }

        if (client.LastFailure is { } failure)
        {
            writer.WriteStartObject("lastFailure");
            writer.WriteString("reason", failure.Reason.ToString());
            writer.WriteString("message", failure.Message);
            WriteTimeOrNull(writer, "at", failure.At);
            writer.WriteEndObject();
        }
        else
        {
            writer.WriteNull("lastFailure");
        }

        writer.WriteEndObject();
    }

    private static void WriteStringOrNull(Utf8JsonWriter writer, string name, string? value)
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

    private static void WriteTimeOrNull(Utf8JsonWriter writer, string name, DateTimeOffset? value)
    {
        if (value is { } time && time != DateTimeOffset.MaxValue)
        {
            writer.WriteString(name, time);
        }
        else
        {
            writer.WriteNull(name);
        }
    }

    /// <summary>One certificate: identity, staple, refresh, health.</summary>
    internal sealed record Row(OcspCertificateState State, string Name, HealthStatus Health, string Summary, string Tls)
    {
        public IReadOnlyList<string> SubjectAlternativeNames =>
            State.Certificate?.Extensions.OfType<X509SubjectAlternativeNameExtension>().FirstOrDefault() is { } san
                ? [.. san.EnumerateDnsNames(), .. san.EnumerateIPAddresses().Select(a => a.ToString())]
                : [];

        public void WriteJson(Utf8JsonWriter writer, DateTimeOffset now)
        {
            OcspCertificateState state = State;
            writer.WriteStartObject();
            writer.WriteString("name", Name);
            writer.WriteString("kind", state.Certificate is null ? "certificateId" : "certificate");
            WriteStringOrNull(writer, "subject", state.Certificate?.Subject);
            writer.WriteString("issuer", state.Issuer.Subject);
            writer.WriteString("serialNumber", state.CertificateId.SerialNumberHex);
            WriteStringOrNull(writer, "thumbprint", state.Certificate?.Thumbprint);
            writer.WriteStartArray("subjectAlternativeNames");
            foreach (string name in SubjectAlternativeNames)
            {
                writer.WriteStringValue(name);
            }

            writer.WriteEndArray();
            WriteTimeOrNull(writer, "notAfter", state.Certificate is { } certificate ? new DateTimeOffset(certificate.NotAfter.ToUniversalTime()) : null);
            writer.WriteBoolean("mustStaple", state.IsMustStaple);
            writer.WriteStartArray("responders");
            foreach (Uri responder in state.ResponderUris)
            {
                writer.WriteStringValue(responder.AbsoluteUri);
            }

            writer.WriteEndArray();
            writer.WriteString("tlsStapling", Tls);
            writer.WriteString("health", Health.ToString());
            writer.WriteString("summary", Summary);

            if (state.Staple is { } staple)
            {
                writer.WriteStartObject("staple");
                writer.WriteString("status", staple.Status.ToString());
                writer.WriteString("thisUpdate", staple.ThisUpdate);
                writer.WriteString("nextUpdate", staple.NextUpdate);
                writer.WriteString("producedAt", staple.ProducedAt);
                writer.WriteString("fetchedAt", staple.FetchedAt);
                writer.WriteNumber("ageSeconds", (long)(now - staple.ThisUpdate).TotalSeconds);
                writer.WriteNumber("remainingSeconds", Math.Max(0, (long)(staple.NextUpdate - now).TotalSeconds));
                writer.WriteBoolean("validNow", staple.IsValidAt(now));
                WriteStringOrNull(writer, "source", state.StapleSource?.ToString());
                WriteTimeOrNull(writer, "revocationTime", staple.RevocationTime);
                WriteStringOrNull(writer, "revocationReason", staple.RevocationReason?.ToString());
                WriteTimeOrNull(writer, "responderCertificateNotAfter", staple.ResponderCertificateNotAfter);
                writer.WriteEndObject();
            }
            else
            {
                writer.WriteNull("staple");
            }

            writer.WriteStartObject("refresh");
            WriteTimeOrNull(writer, "next", state.NextRefresh);
            writer.WriteNumber("consecutiveFailures", state.ConsecutiveFailures);
            if (state.LastFailure is { } failure)
            {
                writer.WriteStartObject("lastFailure");
                writer.WriteString("reason", failure.Reason.ToString());
                WriteStringOrNull(writer, "validationFailure", failure.ValidationFailure == OcspValidationFailure.None ? null : failure.ValidationFailure.ToString());
                writer.WriteString("message", failure.Message);
                WriteTimeOrNull(writer, "at", failure.At);
                WriteStringOrNull(writer, "responder", failure.Responder?.AbsoluteUri);
                writer.WriteEndObject();
            }
            else
            {
                writer.WriteNull("lastFailure");
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        /// <summary>Where <paramref name="time"/> falls in the staple's validity window, in percent (clamped to 0–100), or <see langword="null"/> without one.</summary>
        public double? Position(DateTimeOffset? time)
        {
            if (State.Staple is not { } staple || time is not { } at || at == DateTimeOffset.MaxValue || staple.NextUpdate <= staple.ThisUpdate)
            {
                return null;
            }

            double fraction = (at - staple.ThisUpdate) / (staple.NextUpdate - staple.ThisUpdate);
            return Math.Clamp(fraction * 100, 0, 100);
        }

        public static string Percent(double value) => value.ToString("0.##", CultureInfo.InvariantCulture) + "%";
    }
}
