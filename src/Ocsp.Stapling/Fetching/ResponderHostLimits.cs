using System.Collections.Concurrent;

namespace Ocsp.Stapling.Internal;

/// <summary>
/// Per responder host (host and port): at most <see cref="OcspFetchOptions.MaxConcurrentRequestsPerHost"/> fetches at
/// once and <see cref="OcspFetchOptions.MaxRequestsPerSecondPerHost"/> starts per second (a token bucket of one second's
/// worth, refilled on the <see cref="TimeProvider"/>).
/// </summary>
internal sealed class ResponderHostLimits
{
    private readonly ConcurrentDictionary<string, Host> _hosts = new(StringComparer.OrdinalIgnoreCase);
    private readonly TimeProvider _time;
    private readonly int _concurrency;
    private readonly double _rate;

    public ResponderHostLimits(TimeProvider time, OcspFetchOptions options)
    {
        _time = time;
        _concurrency = options.MaxConcurrentRequestsPerHost;
        _rate = options.MaxRequestsPerSecondPerHost;
    }

    /// <summary>Waits for a slot and a token of <paramref name="responder"/>'s host; dispose the lease when the fetch ends.</summary>
    public async ValueTask<IDisposable> AcquireAsync(Uri responder, CancellationToken cancellationToken)
    {
        Host host = _hosts.GetOrAdd(responder.Authority, static (_, limits) => new Host(limits), this);
        await host.Slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await host.TakeTokenAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            host.Slots.Release();
            throw;
        }

        return new Lease(host.Slots);
    }

    private sealed class Host(ResponderHostLimits limits)
    {
        private readonly TokenBucket _bucket = new(limits._time, limits._rate);

        public SemaphoreSlim Slots { get; } = new(limits._concurrency);

        public async Task TakeTokenAsync(CancellationToken cancellationToken)
        {
            while (true)
            {
                if (_bucket.TryTake(out TimeSpan wait))
                {
                    return;
                }

                await Task.Delay(wait, limits._time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private sealed class Lease(SemaphoreSlim slots) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                slots.Release();
            }
        }
    }
}
