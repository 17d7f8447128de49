namespace Ocsp.Stapling.Internal;

/// <summary>The checks' CRL side: which certificates a CRL decides, and its verdicts.</summary>
internal sealed partial class ClientCertificateValidator
{
    /// <summary>Whether <paramref name="entry"/> is decided by its CA's CRL before OCSP: by policy, when it has a CRL distribution point.</summary>
    private static bool CrlFirst(OnDemandEntry entry, OcspClientCertificatePolicy policy) =>
        entry.Notes is Notes { CrlUrls.Count: > 0 } && policy.CrlUse switch
        {
            OcspCrlUse.Preferred => true,
            OcspCrlUse.Never => false,
            _ => entry.Responders.Count == 0,
        };

    /// <summary>
    /// Under <see cref="OcspCrlUse.Fallback"/>, the certificates OCSP left without a valid answer are given to their CA's
    /// CRL; true when any was (their verdicts are then CRL verdicts, perhaps an attempt to wait for).
    /// </summary>
    private bool Fallback(Checked checking, OcspClientCertificatePolicy policy, DateTimeOffset now)
    {
        if (policy.CrlUse != OcspCrlUse.Fallback)
        {
            return false;
        }

        bool any = false;
        for (int i = 0; i < checking.Count; i++)
        {
            Verdict verdict = checking[i];
            if (verdict.Crl is null && verdict.CrlFlight is null
                && verdict.Reason is OcspClientCertificateReason.NoAnswer or OcspClientCertificateReason.Timeout or OcspClientCertificateReason.Pending or OcspClientCertificateReason.NoResponder
                && checking.Entries[i] is { Notes: Notes { CrlUrls.Count: > 0 } } entry)
            {
                Verdict fromCrl = CrlVerdict(entry, now);
                if (fromCrl.Crl is not null || fromCrl.CrlFlight is not null)
                {
                    checking[i] = fromCrl;
                    any = true;
                }
            }
        }

        return any;
    }

    /// <summary>
    /// The verdict of <paramref name="entry"/>'s CA's CRL: from the CRL held while it is valid (a newer one looked for in
    /// the background when due), else the attempt to wait for, else why there is none (an attempt failed lately).
    /// </summary>
    private Verdict CrlVerdict(OnDemandEntry entry, DateTimeOffset now)
    {
        var notes = (Notes)entry.Notes!;
        ClientCrls.CrlHolder? holder = notes.Crl ??= _crls.For(entry.Issuer, notes.CrlUrls);
        if (holder is null)
        {
            return Verdict.None(OcspClientCertificateReason.NoAnswer, $"its CA's CRL is not held: CRLs of {ClientCrls.MaxHolders} other CAs are");
        }

        if (holder.Current is { } held && held.IsValidAt(now))
        {
            holder.RefreshIfDue(held, now);
            return FromCrl(entry, held);
        }

        if (holder.RecentFailure(now) is { } failure)
        {
            return Verdict.None(OcspClientCertificateReason.NoAnswer, NoCrl(holder.Current, failure));
        }

        (Task<ClientCrls.CrlAnswer> answer, Task storeRead) = holder.Ask();
        return answer.IsCompletedSuccessfully ? FromCrlAnswer(entry, answer.Result, now) : Verdict.AskingCrl(answer, storeRead);
    }

    private static Verdict FromCrlAnswer(OnDemandEntry entry, ClientCrls.CrlAnswer answer, DateTimeOffset now) =>
        answer.Held is { } held && held.IsValidAt(now)
            ? FromCrl(entry, held)
            : Verdict.None(OcspClientCertificateReason.NoAnswer, NoCrl(answer.Held, answer.Failure ?? "none taken"));

    /// <summary>The CRL's word on <paramref name="entry"/>: listed (revoked, when and why), not listed (good), or not its scope.</summary>
    private static Verdict FromCrl(OnDemandEntry entry, ClientCrls.Held held)
    {
        if (CrlValidation.Covers(held.Crl, entry.Certificate!) is { } outside)
        {
            return Verdict.None(OcspClientCertificateReason.NoAnswer, outside);
        }

        return held.Crl.Revoked.TryFind(entry.Certificate!.SerialNumberBytes.Span, out DateTimeOffset at, out OcspRevocationReason? reason)
            ? Verdict.RevokedByCrl(held, at, reason)
            : Verdict.FromCrl(held);
    }

    private static string NoCrl(ClientCrls.Held? held, string failure) => held is null
        ? $"no valid CRL of its CA: {failure}"
        : $"its CA's CRL expired at {held.NextUpdate:u} and no newer one was taken: {failure}";
}
