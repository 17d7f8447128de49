using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Ocsp.Stapling.Testing;

/// <summary>An <see cref="ILoggerProvider"/> that records every log entry (event id, level, message).</summary>
public sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<LogEntry> _entries = new();
    private readonly List<(Func<LogEntry, bool> Match, TaskCompletionSource Waiter)> _waiters = [];

    public IReadOnlyCollection<LogEntry> Entries => _entries;

    /// <summary>Forgets the entries so far (a long simulation keeps only what it checks).</summary>
    public void Clear() => _entries.Clear();

    /// <summary>Completes when an entry matching <paramref name="match"/> is logged (or already was): a signal, not a poll.</summary>
    public Task WhenAsync(Func<LogEntry, bool> match)
    {
        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_waiters)
        {
            if (_entries.Any(match))
            {
                return Task.CompletedTask;
            }

            _waiters.Add((match, waiter));
        }

        return waiter.Task;
    }

    private void Add(LogEntry entry)
    {
        lock (_waiters)
        {
            _entries.Enqueue(entry);
            foreach ((Func<LogEntry, bool> match, TaskCompletionSource waiter) in _waiters.Where(w => w.Match(entry)).ToArray())
            {
                waiter.TrySetResult();
                _waiters.Remove((match, waiter));
            }
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(LogCapture owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Add(new LogEntry(category, logLevel, eventId.Id, formatter(state, exception)));
    }
}

public sealed record LogEntry(string Category, LogLevel Level, int EventId, string Message);
