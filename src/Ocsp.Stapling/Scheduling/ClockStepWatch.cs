using Microsoft.Extensions.Logging;

namespace Ocsp.Stapling.Internal;

/// <summary>
/// Notices when the wall clock steps (NTP, a suspended VM, an operator) and puts the time-dependent state right.
/// Expiry timers and refresh waits run on the monotonic clock, but nextUpdate is a wall-clock time: after a step forward
/// a timer would fire late, and a staple could be served past its nextUpdate. Every <see cref="Interval"/> the watch
/// compares how far the wall clock moved with how far the monotonic clock did; past <see cref="Tolerance"/>, it logs the
/// step, stops serving every staple now past its nextUpdate, re-arms the other expiry timers, and wakes the scheduler,
/// which takes each refresh now due once (no storm: a refresh is due once however far the clock jumped).
/// </summary>
internal sealed class ClockStepWatch : IDisposable
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan Tolerance = TimeSpan.FromSeconds(2);

    private readonly TimeProvider _time;
    private readonly RegistrationStore _store;
    private readonly RefreshScheduler _scheduler;
    private readonly ILogger _logger;
    private readonly object _gate = new();
    private DateTimeOffset _lastWall;
    private long _lastTimestamp;
    private ITimer? _timer;

    public ClockStepWatch(TimeProvider time, RegistrationStore store, RefreshScheduler scheduler, ILogger logger)
    {
        _time = time;
        _store = store;
        _scheduler = scheduler;
        _logger = logger;
    }

    public void Start()
    {
        lock (_gate)
        {
            _lastWall = _time.GetUtcNow();
            _lastTimestamp = _time.GetTimestamp();
            _timer ??= _time.CreateTimer(static state => ((ClockStepWatch)state!).Check(), this, Interval, Interval);
        }
    }

    /// <summary>Compares the clocks now; returns the step found (zero within the tolerance). The timer calls it every <see cref="Interval"/>.</summary>
    public TimeSpan Check()
    {
        TimeSpan step;
        DateTimeOffset now;
        lock (_gate)
        {
            now = _time.GetUtcNow();
            long timestamp = _time.GetTimestamp();
            step = now - (_lastWall + _time.GetElapsedTime(_lastTimestamp, timestamp));
            _lastWall = now;
            _lastTimestamp = timestamp;
        }

        if (step.Duration() <= Tolerance)
        {
            return TimeSpan.Zero;
        }

        int expired = _store.Resynchronize();
        Log.ClockStepped(_logger, step, now, expired);
        _scheduler.Wake();
        return step;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _timer?.Dispose();
            _timer = null;
        }
    }
}
