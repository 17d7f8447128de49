using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;

namespace Ocsp.Stapling.AspNetCore.Internal;

/// <summary>
/// The status page for a person: one row per certificate, coloured by health, with a bar over the staple's validity
/// window marking now and the next refresh. Self-contained: inline CSS, no script, no external asset (the endpoint's
/// Content-Security-Policy forbids loading any).
/// </summary>
internal static class OcspStaplingStatusPage
{
    private const string Style = """
        body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#1d2330;background:#fafbfc}
        h1{font-size:1.3rem;margin:0 0 .3rem}
        .meta{color:#5b6475;margin-bottom:1rem}
        table{border-collapse:collapse;width:100%;background:#fff}
        th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid #e3e6eb;vertical-align:top}
        th{font-weight:600;background:#f0f2f5}
        tr.Healthy td:first-child{border-left:6px solid #2e9e4f}
        tr.Degraded td:first-child{border-left:6px solid #e0a100}
        tr.Unhealthy td:first-child{border-left:6px solid #d2372c}
        .badge{display:inline-block;padding:0 .45rem;border-radius:.6rem;color:#fff;font-size:.8rem}
        .badge.Healthy{background:#2e9e4f}.badge.Degraded{background:#e0a100}.badge.Unhealthy{background:#d2372c}
        .bar{position:relative;height:14px;min-width:220px;background:#e3e6eb;border-radius:3px;margin:.2rem 0}
        .bar .used{position:absolute;left:0;top:0;bottom:0;border-radius:3px 0 0 3px}
        tr.Healthy .used{background:#9fd8ad}tr.Degraded .used{background:#f3d27a}tr.Unhealthy .used{background:#f0a39d}
        .bar .now,.bar .refresh{position:absolute;top:-3px;bottom:-3px;width:2px}
        .bar .now{background:#1d2330}.bar .refresh{background:#2f6fdb}
        .legend{font-size:.8rem;color:#5b6475}
        .legend i{display:inline-block;width:10px;height:10px;margin:0 .25rem 0 .6rem;vertical-align:middle}
        code{font-size:.85em}
        td.staple{white-space:nowrap}
        .failure{color:#a32a21}
        """;

    public static string Render(OcspStaplingStatusReport report)
    {
        HtmlEncoder html = HtmlEncoder.Default;
        var page = new StringBuilder(4096 + (report.Rows.Count * 1024));
        page.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">")
            .Append("<meta http-equiv=\"refresh\" content=\"60\"><title>OCSP stapling status</title><style>").Append(Style).Append("</style></head><body>");
        page.Append(CultureInfo.InvariantCulture, $"<h1>OCSP stapling <span class=\"badge {report.Status}\" id=\"overall\">{report.Status}</span></h1>");
        string tls = !report.TlsInUse
            ? "no TLS server staples through this process"
            : report.TlsUnsupportedReason is null ? "TLS stapling on" : "TLS stapling OFF: " + report.TlsUnsupportedReason;
        page.Append(CultureInfo.InvariantCulture, $"<div class=\"meta\">{report.Rows.Count} certificate(s) · {html.Encode(tls)} · generated {report.GeneratedAt:u}</div>");
        page.Append("<table id=\"certificates\"><thead><tr><th>certificate</th><th>health</th><th>staple</th><th>validity")
            .Append("<div class=\"legend\"><i style=\"background:#1d2330\"></i>now<i style=\"background:#2f6fdb\"></i>next refresh</div></th><th>refresh</th></tr></thead><tbody>");
        foreach (OcspStaplingStatusReport.Row row in report.Rows.Take(OcspStaplingStatusReport.MaxHtmlRows))
        {
            AppendRow(page, html, row, report.GeneratedAt);
        }

        if (report.Rows.Count > OcspStaplingStatusReport.MaxHtmlRows)
        {
            int more = report.Rows.Count - OcspStaplingStatusReport.MaxHtmlRows;
            page.Append(CultureInfo.InvariantCulture, $"<tr id=\"more\"><td colspan=\"5\">{more} more certificate(s) not shown (the worst come first): the JSON (<code>?format=json</code>) lists every one.</td></tr>");
        }

        if (report.Rows.Count == 0)
        {
            page.Append("<tr><td colspan=\"5\">No certificate is registered.</td></tr>");
        }

        page.Append("</tbody></table>");
        AppendClientCertificates(page, html, report);
        AppendCrls(page, html, report);
        page.Append("</body></html>");
        return page.ToString();
    }

    /// <summary>The client certificates kept for revocation checks (mTLS): their answer and the last decision, most recently checked first.</summary>
    private static void AppendClientCertificates(StringBuilder page, HtmlEncoder html, OcspStaplingStatusReport report)
    {
        if (report.ClientCertificates.Count == 0)
        {
            return;
        }

        page.Append(CultureInfo.InvariantCulture, $"<h2>Client certificates <span class=\"meta\">{report.ClientCertificates.Count} checked for revocation</span></h2>");
        page.Append("<table id=\"client-certificates\"><thead><tr><th>client certificate</th><th>answer</th><th>last decision</th><th>last checked</th></tr></thead><tbody>");
        foreach (OcspClientCertificateState client in report.ClientCertificates.Take(OcspStaplingStatusReport.MaxHtmlRows))
        {
            string accepted = client.LastDecision is { IsAccepted: true } ? "Healthy" : "Unhealthy";
            page.Append(CultureInfo.InvariantCulture, $"<tr class=\"client {accepted}\" data-serial=\"{client.CertificateId.SerialNumberHex}\">");
            page.Append("<td><strong>").Append(html.Encode(client.Certificate.Subject)).Append("</strong><br>serial <code>")
                .Append(client.CertificateId.SerialNumberHex).Append("</code></td>");
            page.Append("<td class=\"staple\">");
            if (client.Response is { } response)
            {
                page.Append(CultureInfo.InvariantCulture, $"<strong>{response.Status}</strong><br>nextUpdate {response.NextUpdate:u}");
            }
            else
            {
                page.Append("none");
            }

            if (client.LastFailure is { } failure)
            {
                page.Append("<div class=\"failure\">").Append(html.Encode(failure.ToString())).Append("</div>");
            }

            page.Append("</td><td>");
            if (client.LastDecision is { } decision)
            {
                page.Append(CultureInfo.InvariantCulture, $"<span class=\"badge {accepted}\">{(decision.IsAccepted ? "accepted" : "rejected")}</span> ")
                    .Append(html.Encode(decision.Reason.ToString())).Append("<br>").Append(html.Encode(decision.Message));
            }

            page.Append(CultureInfo.InvariantCulture, $"</td><td>{client.LastChecked:u}</td></tr>");
        }

        page.Append("</tbody></table>");
    }

    /// <summary>The CRLs held for client-certificate checks: whose, which, until when, how many entries, the last failure.</summary>
    private static void AppendCrls(StringBuilder page, HtmlEncoder html, OcspStaplingStatusReport report)
    {
        if (report.Crls.Count == 0)
        {
            return;
        }

        page.Append(CultureInfo.InvariantCulture, $"<h2>CRLs <span class=\"meta\">{report.Crls.Count} held for client-certificate checks</span></h2>");
        page.Append("<table id=\"crls\"><thead><tr><th>issuer</th><th>number</th><th>thisUpdate</th><th>nextUpdate</th><th>entries</th><th>last failure</th></tr></thead><tbody>");
        foreach (OcspCrlState crl in report.Crls)
        {
            string health = crl.NextUpdate > report.GeneratedAt ? "Healthy" : "Unhealthy";
            page.Append(CultureInfo.InvariantCulture, $"<tr class=\"crl {health}\"><td><strong>").Append(html.Encode(crl.Issuer)).Append("</strong><br><code>")
                .Append(html.Encode(crl.Url.AbsoluteUri)).Append("</code></td>");
            page.Append(CultureInfo.InvariantCulture, $"<td>{crl.Number?.ToString(CultureInfo.InvariantCulture) ?? "none"}</td><td>{crl.ThisUpdate:u}</td><td>{crl.NextUpdate:u}</td><td>{crl.Entries}</td><td>");
            page.Append(html.Encode(crl.LastFailure ?? "")).Append("</td></tr>");
        }

        page.Append("</tbody></table>");
    }

    private static void AppendRow(StringBuilder page, HtmlEncoder html, OcspStaplingStatusReport.Row row, DateTimeOffset now)
    {
        OcspCertificateState state = row.State;
        page.Append(CultureInfo.InvariantCulture, $"<tr class=\"certificate {row.Health}\" data-certificate=\"{html.Encode(row.Name)}\" data-health=\"{row.Health}\">");

        // Identity
        page.Append("<td><strong>").Append(html.Encode(row.Name)).Append("</strong>");
        if (row.SubjectAlternativeNames.Count > 0)
        {
            page.Append("<br>").Append(html.Encode(string.Join(", ", row.SubjectAlternativeNames)));
        }

        page.Append("<br><code>serial ").Append(state.CertificateId.SerialNumberHex).Append("</code>");
        if (state.IsMustStaple)
        {
            page.Append(" · <strong>must-staple</strong>");
        }

        page.Append("<br>").Append(html.Encode(state.ResponderUris.Count == 0 ? "no OCSP responder" : string.Join(", ", state.ResponderUris.Select(u => u.AbsoluteUri))));
        page.Append(CultureInfo.InvariantCulture, $"<br>TLS stapling: {row.Tls}</td>");

        // Health
        page.Append(CultureInfo.InvariantCulture, $"<td><span class=\"badge {row.Health}\">{row.Health}</span><br>{html.Encode(row.Summary)}</td>");

        // Staple
        if (state.Staple is { } staple)
        {
            string source = state.StapleSource?.ToString() ?? "?";
            page.Append(CultureInfo.InvariantCulture, $"<td class=\"staple\" data-status=\"{staple.Status}\"><strong>{staple.Status}</strong> from {html.Encode(source)}<br>")
                .Append(CultureInfo.InvariantCulture, $"thisUpdate {staple.ThisUpdate:u}<br>nextUpdate {staple.NextUpdate:u}<br>producedAt {staple.ProducedAt:u}<br>")
                .Append(CultureInfo.InvariantCulture, $"age {OcspCertificateHealth.Format(now - staple.ThisUpdate)}</td>");
        }
        else
        {
            page.Append("<td class=\"staple\" data-status=\"none\">no staple</td>");
        }

        // Validity bar: the window thisUpdate → nextUpdate, filled up to now, with markers for now and the next refresh.
        page.Append("<td>");
        if (row.Position(now) is { } nowAt)
        {
            page.Append("<div class=\"bar\" role=\"img\" aria-label=\"validity window\">")
                .Append("<div class=\"used\" style=\"width:").Append(OcspStaplingStatusReport.Row.Percent(nowAt)).Append("\"></div>")
                .Append("<div class=\"now\" title=\"now\" style=\"left:").Append(OcspStaplingStatusReport.Row.Percent(nowAt)).Append("\"></div>");
            if (row.Position(state.NextRefresh) is { } refreshAt)
            {
                page.Append("<div class=\"refresh\" title=\"next refresh\" style=\"left:").Append(OcspStaplingStatusReport.Row.Percent(refreshAt)).Append("\"></div>");
            }

            page.Append("</div>")
                .Append(CultureInfo.InvariantCulture, $"<span class=\"legend\">{Math.Max(0, (state.Staple!.NextUpdate - now).TotalHours):0.#} h left</span>");
        }
        else
        {
            page.Append('—');
        }

        page.Append("</td>");

        // Refresh
        page.Append("<td>");
        page.Append(state.NextRefresh is { } next && next != DateTimeOffset.MaxValue
            ? string.Create(CultureInfo.InvariantCulture, $"next {next:u}")
            : "not scheduled");
        if (state.LastFailure is { } failure)
        {
            page.Append(CultureInfo.InvariantCulture, $"<div class=\"failure\">{state.ConsecutiveFailures} failure(s); last {html.Encode(failure.Code)} at {failure.At:u}: ")
                .Append(html.Encode(failure.Message)).Append("</div>");
        }

        page.Append("</td></tr>");
    }
}
