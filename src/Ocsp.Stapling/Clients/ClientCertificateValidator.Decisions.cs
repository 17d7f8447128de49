using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace Ocsp.Stapling.Internal;

/// <summary>From the verdicts on a chain's certificates to one decision: the words, the log line, the metric.</summary>
internal sealed partial class ClientCertificateValidator
{
    /// <summary>The metric tag of a reason (a closed set of seven).</summary>
    internal static string Tag(OcspClientCertificateReason reason) => reason switch
    {
        OcspClientCertificateReason.Good => "good",
        OcspClientCertificateReason.Revoked => "revoked",
        OcspClientCertificateReason.Unknown => "unknown",
        OcspClientCertificateReason.NoAnswer => "no_answer",
        OcspClientCertificateReason.Timeout => "timeout",
        OcspClientCertificateReason.Pending => "pending",
        OcspClientCertificateReason.NoResponder => "no_responder",
        OcspClientCertificateReason.NoCertificate => "no_certificate",
        OcspClientCertificateReason.UntrustedChain => "untrusted_chain",
        _ => "check_failed",
    };

    /// <summary>
    /// One decision for the chain: rejected when any certificate checked is (revoked always; unknown unless the policy
    /// accepts it; no answer under fail-closed), with the reason of the certificate that weighs most (revoked first).
    /// A chain with nothing to check (a client certificate trusted as it is) is decided by the failure mode.
    /// </summary>
    private OcspClientCertificateDecision Decide(Checked checking, OcspClientCertificatePolicy policy)
    {
        bool accepted = true;
        int deciding = -1;
        int weight = -1;
        for (int i = 0; i < checking.Count; i++)
        {
            (bool ok, int w) = Weigh(checking[i].Reason, policy);
            accepted &= ok;
            if (w > weight)
            {
                (deciding, weight) = (i, w);
            }
        }

        Verdict verdict = deciding < 0 ? Verdict.None(OcspClientCertificateReason.NoResponder, "it has no issuer to check its revocation with") : checking[deciding];
        accepted = deciding < 0 ? policy.FailureMode == OcspClientFailureMode.FailOpen : accepted;
        OnDemandEntry? leaf = checking.Count > 0 ? checking.Entries[0] : null;
        var notes = leaf?.Notes as Notes;
        var key = new DecisionKey(accepted, verdict.Reason, verdict.Response, verdict.Crl, deciding, verdict.Failure, verdict.Text, policy.FailureMode, policy.AcceptUnknown);
        OcspClientCertificateDecision decision;
        if (notes?.Last is { } last && last.Key == key)
        {
            decision = last.Decision; // the same as last time: no new decision, no new words
        }
        else
        {
            string how = Words(verdict, policy);
            string subject = deciding > 0 ? $": its CA {checking.Entries[deciding]!.DisplayName} is {how}" : $": {how}";
            string name = CertificateNames.DisplayName(leaf?.Certificate ?? checking.Client);
            decision = new OcspClientCertificateDecision(
                accepted, verdict.Reason, verdict.Response, $"Client certificate {name} {(accepted ? "accepted" : "rejected")}{subject}", verdict.Crl?.State());
            notes?.Remember(key, decision);
        }

        if (_checks.Enabled)
        {
            _checks.Add(1, new KeyValuePair<string, object?>("decision", accepted ? "accepted" : "rejected"), new KeyValuePair<string, object?>("reason", Tag(verdict.Reason)));
        }

        // Once per certificate, reason and outcome (a policy change shows up once more).
        if (notes is null || notes.FirstTime(verdict.Reason, accepted))
        {
            Log.ClientCertificateDecided(_logger, accepted && verdict.Reason == OcspClientCertificateReason.Good ? LogLevel.Information : LogLevel.Warning, decision.Message);
        }

        return decision;
    }

    /// <summary>Whether a certificate with this reason is accepted under <paramref name="policy"/>, and how much it weighs in the chain's decision.</summary>
    private static (bool Accepted, int Weight) Weigh(OcspClientCertificateReason reason, OcspClientCertificatePolicy policy) => reason switch
    {
        OcspClientCertificateReason.Good => (true, 0),
        OcspClientCertificateReason.Revoked => (false, 4),
        OcspClientCertificateReason.Unknown => policy.AcceptUnknown ? (true, 1) : (false, 3),
        _ => policy.FailureMode == OcspClientFailureMode.FailOpen ? (true, 2) : (false, 3),
    };

    private static string Words(Verdict verdict, OcspClientCertificatePolicy policy)
    {
        string mode = policy.FailureMode == OcspClientFailureMode.FailOpen ? "fail-open" : "fail-closed";
        if (verdict.Crl is { } crl)
        {
            string which = $"its CA's CRL (number {crl.Crl.Number?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}, thisUpdate {crl.Crl.ThisUpdate:u})";
            return verdict.Reason == OcspClientCertificateReason.Revoked
                ? $"revoked since {verdict.RevokedAt:u}{(verdict.RevocationReason is { } why ? $" ({why})" : "")} by {which}"
                : $"good: not listed on {which}";
        }

        return verdict.Reason switch
        {
            OcspClientCertificateReason.Good => "good",
            OcspClientCertificateReason.Revoked => $"revoked{(verdict.Response?.RevocationTime is { } at ? $" since {at:u}" : "")}",
            OcspClientCertificateReason.Unknown => $"unknown to its responder ({(policy.AcceptUnknown ? "accepted by policy" : "rejected by policy")})",
            OcspClientCertificateReason.NoResponder => $"without an OCSP responder: {verdict.Detail} ({mode})",
            OcspClientCertificateReason.Timeout => $"without an answer in time: {verdict.Detail} ({mode})",
            OcspClientCertificateReason.Pending => $"without an answer yet: {verdict.Detail} ({mode})",
            _ => $"without a valid answer: {verdict.Detail} ({mode})",
        };
    }

    /// <summary>The verdict on one certificate of the chain: a validated answer's status, why there is none, or the request to wait for.</summary>
    private readonly record struct Verdict(OcspClientCertificateReason Reason, OcspStaple? Response, OcspFailure? Failure, string? Text, Flight<OnDemandAnswer>? Flight)
    {
        /// <summary>Gets the CRL that decided (a CRL verdict).</summary>
        public ClientCrls.Held? Crl { get; init; }

        /// <summary>Gets when the CRL says the certificate was revoked.</summary>
        public DateTimeOffset RevokedAt { get; init; }

        public OcspRevocationReason? RevocationReason { get; init; }

        /// <summary>Gets the CRL being taken, to wait for (and its store read, for the synchronous check).</summary>
        public Task<ClientCrls.CrlAnswer>? CrlFlight { get; init; }

        public Task? CrlStoreRead { get; init; }

        public string Detail => Text ?? Failure?.ToString() ?? "no valid answer";

        public static Verdict Of(OcspStaple response) => new(
            response.Status switch
            {
                OcspCertificateStatus.Good => OcspClientCertificateReason.Good,
                OcspCertificateStatus.Revoked => OcspClientCertificateReason.Revoked,
                _ => OcspClientCertificateReason.Unknown,
            },
            response,
            null,
            null,
            null);

        /// <summary>The answer of a request: its response if it is one and fresh enough (fetched after <paramref name="oldest"/>), else why not.</summary>
        public static Verdict Of(OnDemandAnswer answer, DateTimeOffset oldest) => answer switch
        {
            { Kind: OnDemandAnswerKind.Valid or OnDemandAnswerKind.Unknown, Response: { } response } when response.FetchedAtBy(DateTimeOffset.MaxValue) >= oldest => Of(response),
            { Kind: OnDemandAnswerKind.Valid or OnDemandAnswerKind.Unknown } => None(OcspClientCertificateReason.NoAnswer, "the only answer is older than the policy's MaxAnswerAge"),
            _ => new(OcspClientCertificateReason.NoAnswer, null, answer.Failure, answer.Failure is null ? answer.Reason : null, null),
        };

        public static Verdict None(OcspClientCertificateReason reason, string text) => new(reason, null, null, text, null);

        public static Verdict Asking(Flight<OnDemandAnswer> flight) => new(OcspClientCertificateReason.Pending, null, null, null, flight);

        public static Verdict AskingCrl(Task<ClientCrls.CrlAnswer> answer, Task storeRead) =>
            new(OcspClientCertificateReason.Pending, null, null, null, null) { CrlFlight = answer, CrlStoreRead = storeRead };

        public static Verdict FromCrl(ClientCrls.Held crl) => new(OcspClientCertificateReason.Good, null, null, null, null) { Crl = crl };

        public static Verdict RevokedByCrl(ClientCrls.Held crl, DateTimeOffset at, OcspRevocationReason? reason) =>
            new(OcspClientCertificateReason.Revoked, null, null, null, null) { Crl = crl, RevokedAt = at, RevocationReason = reason };
    }

    /// <summary>What makes a decision's words: the same key, the same decision object.</summary>
    private readonly record struct DecisionKey(
        bool Accepted, OcspClientCertificateReason Reason, OcspStaple? Response, ClientCrls.Held? Crl, int Deciding, OcspFailure? Failure, string? Text, OcspClientFailureMode Mode, bool AcceptUnknown);

    /// <summary>One check under way: the client certificate, and for each certificate checked its entry and verdict.</summary>
    private sealed class Checked(X509Certificate2 client, int count, long started)
    {
        private readonly Verdict[] _verdicts = new Verdict[count];

        public X509Certificate2 Client { get; } = client;

        public int Count => _verdicts.Length;

        public OnDemandEntry?[] Entries { get; } = new OnDemandEntry?[count];

        public long Started { get; } = started;

        public Verdict this[int index]
        {
            get => _verdicts[index];
            set => _verdicts[index] = value;
        }
    }

    /// <summary>
    /// What the checks keep with a client certificate's entry: its last decision (one immutable pair, replaced whole) and
    /// which reasons and outcomes were logged (bits set once, atomically).
    /// </summary>
    private sealed class Notes(IReadOnlyList<Uri> crlUrls)
    {
        private Remembered? _last;
        private int _logged;
        private ClientCrls.CrlHolder? _crl;

        /// <summary>Gets the certificate's HTTP CRL distribution points (read once, when it is first seen).</summary>
        public IReadOnlyList<Uri> CrlUrls { get; } = crlUrls;

        /// <summary>Gets or sets the holder of its CA's CRL, once looked up.</summary>
        public ClientCrls.CrlHolder? Crl
        {
            get => Volatile.Read(ref _crl);
            set => Volatile.Write(ref _crl, value);
        }

        public Remembered? Last => Volatile.Read(ref _last);

        public void Remember(DecisionKey key, OcspClientCertificateDecision decision) => Volatile.Write(ref _last, new Remembered(key, decision));

        /// <summary>Whether this reason and outcome is seen for the first time (then it is marked seen).</summary>
        public bool FirstTime(OcspClientCertificateReason reason, bool accepted)
        {
            int bit = 1 << (((int)reason * 2) + (accepted ? 1 : 0));
            return (Interlocked.Or(ref _logged, bit) & bit) == 0;
        }
    }

    private sealed record Remembered(DecisionKey Key, OcspClientCertificateDecision Decision);
}
