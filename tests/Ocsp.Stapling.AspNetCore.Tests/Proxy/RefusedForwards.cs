using System.Diagnostics.Metrics;

namespace Ocsp.Stapling.AspNetCore.Tests.Proxy;

/// <summary>Listens to <c>ocsp.stapling.proxy.forwards_refused</c> for one responder (the meter is process-wide), by its <c>limit</c> tag.</summary>
internal sealed class RefusedForwards : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly List<string> _limits = [];

    public RefusedForwards(Uri responder)
    {
        string authority = responder.GetLeftPart(UriPartial.Authority);
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Name == "ocsp.stapling.proxy.forwards_refused")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            string? limit = null;
            bool ours = false;
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                limit = tag.Key == "limit" ? (string?)tag.Value : limit;
                ours |= tag.Key == "responder" && Equals(tag.Value, authority);
            }

            if (ours && limit is not null)
            {
                lock (_limits)
                {
                    _limits.Add(limit);
                }
            }
        });
        _listener.Start();
    }

    public int Count(string limit)
    {
        lock (_limits)
        {
            return _limits.Count(l => l == limit);
        }
    }

    public void Dispose() => _listener.Dispose();
}
