using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using Ocsp.Stapling.Internal;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tests.Provider;

/// <summary>
/// One state model (issue 27, item 3): refreshes, prunes, expiry, unregistration and lookups on many threads at once,
/// against a responder that flips between answering and failing. Every snapshot a reader sees — through the raw
/// registration, through <see cref="OcspCertificateRegistry.GetState(X509Certificate2)"/> and <c>GetStates()</c> — must
/// be one that a write published (the store's observer records each), whole: its fields agree with each other, and a
/// reader never sees a registration's versions go back.
/// </summary>
public sealed class StateConcurrencyTests(ResponderFixture fixture) : IClassFixture<ResponderFixture>
{
    private const int Certificates = 6;

    private readonly FakeTimeProvider _time = fixture.Reset();

    [Fact]
    public async Task RefreshPruneExpiryUnregisterAndLookups_Concurrently_EverySnapshotReadWasWrittenWhole()
    {
        using var host = new ProviderHost(_time, b => b.UseMemoryOnly(), o =>
        {
            o.Refresh.MinimumPruneInterval = TimeSpan.FromSeconds(1);
            o.Fetch.MaxRequestsPerSecondPerHost = 100_000; // the token bucket refills on the fake clock: let every fetch through
            o.Fetch.MaxConcurrentRequestsPerHost = 100;
            o.Fetch.CircuitBreaker.MinimumThroughput = int.MaxValue; // failures are this test's input: keep asking
            o.Refresh.FailureBackoffBase = TimeSpan.FromSeconds(30);
            o.Fetch.TotalTimeout = TimeSpan.FromDays(30); // the fake clock jumps: fetches rarely time out on it
            o.Fetch.AttemptTimeout = TimeSpan.FromDays(1);
        });
        var store = host.Services.GetRequiredService<RegistrationStore>();
        var written = new ConcurrentDictionary<RegistrationState, byte>(ReferenceEqualityComparer.Instance);
        written.TryAdd(RegistrationState.Initial, 0);
        store.Observer = (_, state) => written.TryAdd(state, 0);
        X509Certificate2[] leaves = [.. Enumerable.Range(0, Certificates).Select(i => fixture.NewLeaf("concurrent"))];
        foreach (X509Certificate2 leaf in leaves)
        {
            host.Provider.Register(leaf, fixture.Pki.Intermediate);
        }

        var problems = new ConcurrentQueue<string>();
        long reads = 0;
        using var stop = new CancellationTokenSource();

        void Check(string path, RegistrationState snapshot)
        {
            Interlocked.Increment(ref reads);
            if (!written.ContainsKey(snapshot))
            {
                problems.Enqueue($"{path}: read a snapshot (version {snapshot.Version}) that no write published");
            }

            if (snapshot.Served is { } servable && !ReferenceEquals(servable, snapshot.Staple))
            {
                problems.Enqueue($"{path}: serves a staple that is not the one held");
            }

            if ((snapshot.Staple is null) != (snapshot.Source is null))
            {
                problems.Enqueue($"{path}: staple and its source disagree");
            }

            if (snapshot.ConsecutiveFailures > 0 && snapshot.LastFailure is null)
            {
                problems.Enqueue($"{path}: {snapshot.ConsecutiveFailures} failure(s) without the last one");
            }

            if (snapshot.Removed && (snapshot.Served is not null || snapshot.NextRefresh != DateTimeOffset.MaxValue))
            {
                problems.Enqueue($"{path}: removed but still served or scheduled");
            }
        }

        async Task ReadAsync()
        {
            var seen = new Dictionary<Registration, long>(ReferenceEqualityComparer.Instance);
            while (!stop.IsCancellationRequested)
            {
                foreach (X509Certificate2 leaf in leaves)
                {
                    if (host.Provider.FindRegistration(leaf) is { } registration)
                    {
                        RegistrationState snapshot = registration.State;
                        Check("registration", snapshot);
                        if (seen.TryGetValue(registration, out long last) && snapshot.Version < last)
                        {
                            problems.Enqueue($"a reader saw version {snapshot.Version} after {last}");
                        }

                        seen[registration] = snapshot.Version;
                    }

                    host.Provider.TryGetCachedStaple(leaf, out _);
                    if (host.Provider.GetState(leaf) is { } state)
                    {
                        Check("GetState", state.Snapshot);
                        if (!ReferenceEquals(state.Staple, state.Snapshot.Staple) || state.ConsecutiveFailures != state.Snapshot.ConsecutiveFailures
                            || !ReferenceEquals(state.LastFailure, state.Snapshot.LastFailure) || state.NextRefresh != (state.Snapshot.Removed ? null : state.Snapshot.NextRefresh))
                        {
                            problems.Enqueue("GetState: the public state mixes two snapshots");
                        }
                    }
                }

                foreach (OcspCertificateState state in host.Provider.GetStates())
                {
                    Check("GetStates", state.Snapshot);
                }

                await Task.Yield();
            }
        }

        async Task RepeatAsync(int times, Func<int, Task> action)
        {
            for (int i = 0; i < times; i++)
            {
                try
                {
                    await action(i);
                }
                catch (InvalidOperationException)
                {
                    // Unregistered by the churn meanwhile: refresh and warm-up refuse certificates that are not registered.
                }
            }
        }

        Task[] readers = [.. Enumerable.Range(0, 3).Select(_ => Task.Run(ReadAsync))];

        // Rounds until every kind of write has happened at least once (the interleaving depends on the machine's load;
        // one round covers them all on an idle machine), at most five.
        bool Covered() =>
            written.Keys.Any(s => s.Staple is not null && s.Served is null && s.ExpiryReported) && written.Keys.Any(s => s.LastPruneAt is not null)
            && written.Keys.Any(s => s.Removed) && written.Keys.Any(s => s.ConsecutiveFailures > 0) && written.Keys.Any(s => s.Source == OcspStapleSource.Responder);
        for (int round = 0; round < 5 && (round == 0 || !Covered()); round++)
        {
            Task[] writers =
            [
                Task.Run(() => RepeatAsync(150, i => host.Provider.RefreshAsync(leaves[i % Certificates]))),
                Task.Run(() => RepeatAsync(150, i => host.Provider.RefreshAsync(leaves[(i + 3) % Certificates]))),
                Task.Run(() => RepeatAsync(150, i => host.Provider.PruneAsync(leaves[(i + 1) % Certificates]))),
                Task.Run(() => RepeatAsync(150, i => host.RunDueAsync(CancellationToken.None))),
                Task.Run(() => RepeatAsync(60, i =>
                {
                    // Churn: a certificate leaves and comes back (a rotation back and forth).
                    X509Certificate2 leaf = leaves[(i * 5) % Certificates];
                    host.Provider.Unregister(leaf);
                    host.Provider.Register(leaf, fixture.Pki.Intermediate);
                    return Task.CompletedTask;
                })),
                Task.Run(() => RepeatAsync(300, async i =>
                {
                    // The responder fails and recovers; the clock runs past back-offs, refresh points and nextUpdates (expiry timers fire).
                    // Paced by progress, not by time: the next step waits (boundedly) for the others to write something.
                    int before = written.Count;
                    for (int spins = 0; spins < 2000 && written.Count == before; spins++)
                    {
                        await Task.Yield();
                    }

                    fixture.Responder.Fault = i % 3 == 0 ? ResponderFault.Http500 : i % 3 == 1 ? ResponderFault.Garbage : ResponderFault.None;
                    _time.Advance(i % 30 == 29 ? TimeSpan.FromDays(3) : TimeSpan.FromMinutes(2));
                })),
            ];

            await Task.WhenAll(writers).WaitAsync(TimeSpan.FromMinutes(3));
        }

        await stop.CancelAsync();
        await Task.WhenAll(readers).WaitAsync(TimeSpan.FromMinutes(1));
        fixture.Responder.Fault = ResponderFault.None;

        Assert.True(problems.IsEmpty, string.Join('\n', problems.Distinct().Take(20)));
        Assert.True(written.Count > 50, $"only {written.Count} snapshots written: the writers did not run"); // 134 to 300+, by the machine's load
        Assert.True(reads > 1000, $"only {reads} snapshots read: the readers did not run");
        Assert.Contains(written.Keys, s => s.Staple is not null && s.Served is null && s.ExpiryReported); // expiry ran
        Assert.Contains(written.Keys, s => s.LastPruneAt is not null);                                     // prunes ran
        Assert.Contains(written.Keys, s => s.Removed);                                                     // unregistrations ran
        Assert.Contains(written.Keys, s => s.ConsecutiveFailures > 0);                                     // failures ran
        Assert.Contains(written.Keys, s => s.Source == OcspStapleSource.Responder);                        // refreshes ran
    }
}
