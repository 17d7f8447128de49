using System.Collections.Concurrent;

namespace Ocsp.Stapling.AspNetCore.Internal;

/// <summary>
/// The responders' signed <c>unknown</c> answers for CertIDs of known CAs (serials they never issued: typing errors,
/// probes, junk), kept for <see cref="OcspProxyOptions.UnknownAnswerCacheTime"/> (never past their nextUpdate) so that
/// asking again costs nobody a request, and never refreshed. At most <see cref="OcspProxyOptions.MaxCachedUnknownAnswers"/>:
/// when full, expired answers go first, then all of them (a flood of junk costs requests, never memory).
/// </summary>
internal sealed class UnknownAnswers(OcspProxyOptions options, TimeProvider time)
{
    private readonly ConcurrentDictionary<OcspCertificateId, Entry> _answers = new();

    public int Count => _answers.Count;

    /// <summary>The cached unknown answer for <paramref name="id"/> while it lasts, and until when it may be cached downstream.</summary>
    public bool TryGet(OcspCertificateId id, out OcspStaple? answer, out DateTimeOffset until)
    {
        if (_answers.TryGetValue(id, out Entry? entry))
        {
            if (time.GetUtcNow() < entry.Until)
            {
                (answer, until) = (entry.Answer, entry.Until);
                return true;
            }

            _answers.TryRemove(new KeyValuePair<OcspCertificateId, Entry>(id, entry));
        }

        (answer, until) = (null, default);
        return false;
    }

    /// <summary>Keeps <paramref name="answer"/> (an unknown answer valid now) for <paramref name="id"/>; returns until when.</summary>
    public DateTimeOffset Add(OcspCertificateId id, OcspStaple answer)
    {
        DateTimeOffset now = time.GetUtcNow();
        DateTimeOffset until = now + options.UnknownAnswerCacheTime;
        until = until < answer.NextUpdate ? until : answer.NextUpdate;
        if (_answers.Count >= options.MaxCachedUnknownAnswers)
        {
            foreach (KeyValuePair<OcspCertificateId, Entry> pair in _answers)
            {
                if (pair.Value.Until <= now)
                {
                    _answers.TryRemove(pair);
                }
            }

            if (_answers.Count >= options.MaxCachedUnknownAnswers)
            {
                _answers.Clear();
            }
        }

        _answers[id] = new Entry(answer, until);
        return until;
    }

    /// <summary>Drops the answer for <paramref name="id"/> (a prune: the next request asks the responder).</summary>
    public bool Remove(OcspCertificateId id) => _answers.TryRemove(id, out _);

    private sealed record Entry(OcspStaple Answer, DateTimeOffset Until);
}
