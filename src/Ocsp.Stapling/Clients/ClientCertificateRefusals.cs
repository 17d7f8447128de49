using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace Ocsp.Stapling.Internal;

/// <summary>
/// The log of client certificates refused before any revocation check (no certificate, a chain that does not reach the
/// configured roots, a check that threw): a Warning once per certificate and reason, Debug after. Whoever can open
/// connections can present a new certificate each time, so what is remembered is bounded and at most
/// <see cref="MaxWarningsPerMinute"/> Warnings are written a minute, the next one saying how many were left out.
/// </summary>
internal sealed class ClientCertificateRefusals(ILogger logger, TimeProvider time, Counter<long> checks)
{
    public const int MaxWarningsPerMinute = 20;
    private const int MaxRemembered = 10_000;

    private readonly ConcurrentDictionary<(string Certificate, string Reason), byte> _logged = new();
    private readonly Lock _gate = new();
    private long _minute;
    private int _warnings;
    private int _leftOut;

    /// <summary>Counts and logs the refusal of <paramref name="certificate"/> (null: none was sent) for <paramref name="why"/>, in the words of <paramref name="reason"/>.</summary>
    public void Refused(X509Certificate2? certificate, OcspClientCertificateReason why, string reason)
    {
        if (checks.Enabled)
        {
            checks.Add(1, new KeyValuePair<string, object?>("decision", "rejected"), new KeyValuePair<string, object?>("reason", ClientCertificateValidator.Tag(why)));
        }

        if (!_logged.TryAdd((certificate?.Thumbprint ?? "", reason), 0))
        {
            Log.ClientCertificateRefusedAgain(logger, reason);
            return;
        }

        if (_logged.Count > MaxRemembered)
        {
            _logged.Clear(); // forgotten: each is logged once more at worst
        }

        int leftOut;
        lock (_gate)
        {
            long minute = time.GetUtcNow().UtcTicks / TimeSpan.TicksPerMinute;
            if (minute != _minute)
            {
                (_minute, _warnings) = (minute, 0);
            }

            if (++_warnings > MaxWarningsPerMinute)
            {
                _leftOut++;
                Log.ClientCertificateRefusedAgain(logger, reason);
                return;
            }

            (leftOut, _leftOut) = (_leftOut, 0);
        }

        Log.ClientCertificateRefused(logger, reason, leftOut > 0 ? $" ({leftOut} more refusal(s) of other certificates were logged at Debug only: at most {MaxWarningsPerMinute} Warnings a minute)" : "");
    }
}
