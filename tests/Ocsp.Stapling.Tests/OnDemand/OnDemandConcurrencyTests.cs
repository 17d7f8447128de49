using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using Ocsp.Stapling.Internal;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tests.OnDemand;

/// <summary>
/// The state rule of certificates learned on demand, under contention: first requests, held lookups, rechecks, prunes
/// of the unanswered, sweeps and evictions on many threads at once, against a responder that flips between good,
/// unknown and down, with a cap small enough to evict all the time. When the dust settles, the counts the component
/// keeps agree with its entries' states, every registered entry is a registration of the provider and every
/// registration by CertID is a registered entry, and no run of a single flight was lost.
/// </summary>
public sealed class OnDemandConcurrencyTests(ResponderFixture fixture) : IClassFixture<ResponderFixture>
{
    private const int Cap = 4;
    private const int Unanswered = 6;

    private readonly FakeTimeProvider _time = fixture.Reset();

    [Fact]
    public async Task AskHeldRecheckDropSweepAndEviction_Concurrently_CountsAndRegistrationsAgreeAfterward()
    {
        using var host = new ProviderHost(_time, b => b.UseMemoryOnly(), o =>
        {
            o.Fetch.MaxRequestsPerSecondPerHost = 100_000; // the token bucket refills on the fake clock: let every fetch through
            o.Fetch.MaxConcurrentRequestsPerHost = 100;
            o.Fetch.CircuitBreaker.MinimumThroughput = int.MaxValue; // failures are this test's input: keep asking
        });
        var group = new OnDemandGroup("test CA", Cap);
        using var sut = new OnDemandCertificates(
            host.Provider, new OnDemandSettings(TimeSpan.FromHours(1), TimeSpan.FromMinutes(10), TimeSpan.Zero, Unanswered), new OnDemandEvents(), _time);
        X509Certificate2[] leaves = [.. Enumerable.Range(0, 16).Select(_ => fixture.NewLeaf("on-demand"))];
        OcspCertificateId[] ids = [.. leaves.Select(l => OcspCertificateId.Create(l, fixture.Pki.Intermediate))];
        IReadOnlyList<Uri> responders = [fixture.Responder.Url];
        var problems = new ConcurrentQueue<string>();
        int asked = 0;
        using var stop = new CancellationTokenSource();

        async Task WorkAsync(int seed)
        {
            var random = new Random(seed);
            while (!stop.IsCancellationRequested)
            {
                int i = random.Next(ids.Length);
                OnDemandEntry entry = sut.Enter(ids[i], fixture.Pki.Intermediate, responders, group);
                switch (random.Next(10))
                {
                    case < 5:
                        OnDemandAnswer answer = await sut.Ask(entry).Result;
                        Interlocked.Increment(ref asked);
                        if (answer.Kind == OnDemandAnswerKind.Valid && answer.Response is not { Status: OcspCertificateStatus.Good or OcspCertificateStatus.Revoked })
                        {
                            problems.Enqueue($"a held answer that is neither good nor revoked: {answer.Response?.Status}");
                        }

                        break;
                    case < 7:
                        if (sut.ValidResponse(entry, _time.GetUtcNow()) is { } held && !held.CertificateId.Equals(ids[i]))
                        {
                            problems.Enqueue($"held for {ids[i]} an answer about {held.CertificateId}");
                        }

                        break;
                    case 7:
                        await sut.RecheckAsync(entry);
                        break;
                    case 8:
                        sut.Drop(entry);
                        break;
                    default:
                        await sut.SweepAsync();
                        break;
                }
            }
        }

        async Task ResponderModesAsync()
        {
            var random = new Random(7);
            ResponderFault[] modes = [ResponderFault.None, ResponderFault.None, ResponderFault.Unknown, ResponderFault.Down];
            while (!stop.IsCancellationRequested)
            {
                fixture.Responder.Fault = modes[random.Next(modes.Length)];
                await Task.Delay(5);
            }
        }

        Task[] workers = [.. Enumerable.Range(0, 8).Select(seed => Task.Run(() => WorkAsync(seed))), Task.Run(ResponderModesAsync)];
        while (Volatile.Read(ref asked) < 1_000 && problems.IsEmpty)
        {
            await Task.Delay(10);
        }

        await stop.CancelAsync();
        await Task.WhenAll(workers);
        fixture.Responder.Fault = ResponderFault.None;

        Assert.True(problems.IsEmpty, string.Join('\n', problems.Take(10)));
        OnDemandEntry[] kept = [.. sut.Entries];
        int registered = kept.Count(e => e.State.Status == OnDemandStatus.Registered);
        Assert.Equal(registered, group.Count);
        Assert.InRange(group.Count, 0, Cap);
        Assert.Equal(kept.Count(e => e.State.IsUnanswered), sut.UnansweredCount);
        Assert.InRange(sut.UnansweredCount, 0, Unanswered);
        Assert.DoesNotContain(kept, e => e.State.Status == OnDemandStatus.Forgotten);
        OcspCertificateId[] registrations = [.. host.Provider.GetStates().Select(s => s.CertificateId).Where(id => ids.Contains(id))];
        Assert.Equal(kept.Where(e => e.State.Status == OnDemandStatus.Registered).Select(e => e.Id).OrderBy(id => id.CacheKey), registrations.OrderBy(id => id.CacheKey));
        Assert.Null(ids.Select(id => sut.FlightOf(id)).FirstOrDefault(f => f is not null)); // every run ended and left its flight
    }
}
