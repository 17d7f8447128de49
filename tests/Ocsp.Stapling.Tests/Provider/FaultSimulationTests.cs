using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Caching.Distributed;
using Ocsp.Stapling.Internal;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tests.Provider;

/// <summary>
/// A seeded fault simulation (issue 31, item 3): the provider over weeks of simulated time (90 days in CI) with hundreds of
/// certificates, through a random schedule of responder modes (good, HTTP 500, garbage, HTML, tryLater, wrong signer,
/// expired, a revocation), shared-store faults (throws, loses writes, loses everything, holds another node's newer
/// entry), wall-clock steps both ways, rotations, registrations and unregistrations, prunes, and scheduler passes, with
/// lookups between every step. After every step: no staple served that is not a valid good response for its
/// certificate (signature and CertID), or that is past its nextUpdate on the true clock; a valid good response held in
/// memory is served; no certificate's upstream requests within a simulated hour exceed the back-off schedule's bound;
/// no unobserved task exception; memory bounded. A failure names the seed and the step. The test command runs seed 1 over
/// 30 simulated days (<c>OCSP_STAPLING_SIMULATION_DAYS</c>; 90 days cost about a minute of one core); <c>.ci/run</c> runs
/// seeds 1–2 over 90 days, and eng/simulate.sh more (<c>OCSP_STAPLING_SIMULATION_SEEDS=3-200</c>).
/// </summary>
[Collection(HeapMeasurements.Name)]
public sealed class FaultSimulationTests(ResponderFixture fixture) : IClassFixture<ResponderFixture>
{
    private const int Certificates = 200;
    private const int MaxRequestsPerCertificatePerHour = 30; // back-off 1, 2, 4 … 60 min: ≤ 7 failures an hour, prunes ≤ 12

    private static readonly int Days = int.Parse(Environment.GetEnvironmentVariable("OCSP_STAPLING_SIMULATION_DAYS") ?? "30", System.Globalization.CultureInfo.InvariantCulture);

    public static TheoryData<int> Seeds()
    {
        var seeds = new TheoryData<int>();
        string? range = Environment.GetEnvironmentVariable("OCSP_STAPLING_SIMULATION_SEEDS");
        (int first, int last) = range?.Split('-') is [string a, string b] ? (int.Parse(a, System.Globalization.CultureInfo.InvariantCulture), int.Parse(b, System.Globalization.CultureInfo.InvariantCulture)) : (1, 1);
        for (int seed = first; seed <= last; seed++)
        {
            seeds.Add(seed);
        }

        return seeds;
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task DaysOfFaults_EveryStepKeepsTheInvariants(int seed)
    {
        FakeTimeProvider truth = fixture.Reset(); // the responder's clock: the real time of this simulated world
        var wall = new SteppedClock(truth);       // the provider's: stepped both ways
        var random = new Random(seed);
        var unobserved = new ConcurrentQueue<string>();
        EventHandler<UnobservedTaskExceptionEventArgs> watch = (_, e) => unobserved.Enqueue(e.Exception.ToString());
        TaskScheduler.UnobservedTaskException += watch;
        var store = new FaultyDistributedCache(truth);
        using var host = new ProviderHost(wall, b => b.UseDistributedCache(_ => store), o =>
        {
            o.Fetch.MaxRequestsPerSecondPerHost = 100_000; // the token bucket refills on the fake clock, which stands still in a pass
            o.Fetch.MaxConcurrentRequestsPerHost = 100;

            // The break is not this simulation's subject: a minute (the fake clock moves a minute or more between passes) keeps the
            // responder's signing, most of this test's time, to one probe a pass while it fails.
            o.Fetch.CircuitBreaker.BreakDuration = o.Fetch.CircuitBreaker.MaxBreakDuration = TimeSpan.FromMinutes(1);
        });
        OcspResponseProvider provider = host.Provider;
        X509Certificate2 issuer = fixture.Pki.Intermediate;

        // The hosted service's clock watch, as in an application (it notices steps of the wall clock each minute).
        ClockStepWatch clockWatch = host.Services.GetRequiredService<ClockStepWatch>();
        clockWatch.Start();
        var registered = new List<X509Certificate2>();
        for (int i = 0; i < Certificates; i++)
        {
            registered.Add(fixture.NewLeaf($"sim-{seed}"));
            provider.Register(registered[^1], issuer);
        }

        long memoryAtStart = GC.GetTotalMemory(forceFullCollection: true);
        DateTimeOffset start = truth.GetUtcNow();
        var requestsThisHour = new Dictionary<OcspCertificateId, int>();
        DateTimeOffset hourStart = start;
        var log = new List<string>();
        int step = 0;
        try
        {
            while (truth.GetUtcNow() - start < TimeSpan.FromDays(Days))
            {
                step++;
                string action = await StepAsync();
                log.Add($"{step}: {action}");
                Check(action);
                host.Logs.Clear(); // the provider's log is not under test here; kept, weeks of it would be most of the heap
                if (log.Count > 100)
                {
                    log.RemoveRange(0, 50);
                }
            }
        }
        catch (Exception ex) when (ex is not Xunit.Sdk.XunitException)
        {
            throw new InvalidOperationException($"Seed {seed}, step {step} threw; the last steps:\n{string.Join('\n', log.TakeLast(15))}", ex);
        }
        finally
        {
            TaskScheduler.UnobservedTaskException -= watch;
            fixture.Responder.Fault = ResponderFault.None;
        }

        GC.Collect();
        GC.WaitForPendingFinalizers();
        Assert.True(unobserved.IsEmpty, $"Seed {seed}: unobserved task exceptions:\n{string.Join("\n\n", unobserved.Take(3))}");
        long grown = GC.GetTotalMemory(forceFullCollection: true) - memoryAtStart;
        Assert.True(grown < 64L * 1024 * 1024, $"Seed {seed}: the heap grew {grown} bytes over {step} steps");
        Assert.True(step > Days * 5, $"Seed {seed}: only {step} steps in {Days} days");

        async Task<string> StepAsync()
        {
            int roll = random.Next(100);
            switch (roll)
            {
                case < 12:
                    ResponderFault[] modes =
                    [
                        ResponderFault.None, ResponderFault.None, ResponderFault.None, ResponderFault.Http500, ResponderFault.Garbage,
                        ResponderFault.HtmlBody, ResponderFault.TryLater, ResponderFault.WrongSigner, ResponderFault.Expired,
                    ];
                    fixture.Responder.Fault = modes[random.Next(modes.Length)];
                    return $"responder {fixture.Responder.Fault}";
                case < 14:
                    X509Certificate2 revoked = registered[random.Next(registered.Count)];
                    fixture.Responder.Revoke(revoked, truth.GetUtcNow());
                    return $"revoke {revoked.SerialNumber}";
                case < 22:
                    CacheFault[] faults = [CacheFault.None, CacheFault.None, CacheFault.Throw, CacheFault.LoseWrites];
                    store.Fault = faults[random.Next(faults.Length)];
                    return $"store {store.Fault}";
                case < 24:
                    foreach (X509Certificate2 leaf in registered)
                    {
                        store.Remove(Key(leaf));
                    }

                    return "store loses everything";
                case < 27:
                    // Another node of the fleet stored a newer valid response for one certificate.
                    X509Certificate2 other = registered[random.Next(registered.Count)];
                    OcspStaple newer = OcspResponseValidator.Validate(
                        OcspResponseBuilder.For(other, issuer, truth.GetUtcNow()).Build(), other, issuer, truth.GetUtcNow()).Staple!;
                    CacheFault fault = store.Fault;
                    store.Fault = CacheFault.None; // the other node's write went through, whatever this node's connection does
                    await store.SetAsync(Key(other), StapleCacheEntry.Serialize(newer), new DistributedCacheEntryOptions { AbsoluteExpiration = newer.NextUpdate });
                    store.Fault = fault;
                    return $"another node stored {other.SerialNumber}";
                case < 30:
                    TimeSpan clockStep = TimeSpan.FromMinutes(random.Next(-180, 181));
                    wall.Step(clockStep);
                    clockWatch.Check(); // what its next tick (within a minute) does; the window before it is documented
                    return $"wall clock step {clockStep}";
                case < 34:
                    // Rotation: a certificate is replaced by a new one (new serial).
                    int index = random.Next(registered.Count);
                    provider.Unregister(registered[index]);
                    registered[index] = fixture.NewLeaf($"sim-{seed}-rotated");
                    provider.Register(registered[index], issuer);
                    return $"rotate #{index}";
                case < 36 when registered.Count > Certificates / 2:
                    int gone = random.Next(registered.Count);
                    provider.Unregister(registered[gone]);
                    registered.RemoveAt(gone);
                    return "unregister one";
                case < 38 when registered.Count < Certificates * 3 / 2:
                    registered.Add(fixture.NewLeaf($"sim-{seed}-added"));
                    provider.Register(registered[^1], issuer);
                    return "register one";
                case < 44:
                    X509Certificate2 pruned = registered[random.Next(registered.Count)];
                    await provider.PruneAsync(pruned);
                    return $"prune {pruned.SerialNumber}";
                default:
                    TimeSpan advance = random.Next(4) == 0 ? TimeSpan.FromHours(random.Next(1, 13)) : TimeSpan.FromMinutes(random.Next(1, 61));
                    truth.Advance(advance);
                    await host.RunDueAsync(CancellationToken.None);
                    return $"advance {advance}, scheduler pass";
            }
        }

        void Check(string action)
        {
            DateTimeOffset now = truth.GetUtcNow();
            foreach (X509Certificate2 leaf in registered)
            {
                Registration? registration = provider.FindRegistration(leaf);
                Assert.True(registration is not null, $"Seed {seed}, step {step} ({action}): {leaf.SerialNumber} is not registered");
                if (provider.TryGetCachedStaple(leaf, out OcspStaple? served))
                {
                    // Safety: a valid good response for this certificate (checked inside its own window), not past nextUpdate.
                    OcspValidationResult validation = OcspResponseValidator.Validate(served.Encoded, leaf, issuer, served.ThisUpdate.AddSeconds(1));
                    Assert.True(validation.IsValid && validation.Staple.Status == OcspCertificateStatus.Good,
                        $"Seed {seed}, step {step} ({action}): served for {leaf.SerialNumber} a response that is not valid good: {validation.Message}\n{string.Join('\n', log.TakeLast(10))}");
                    // Past nextUpdate on both clocks: the provider cannot know the true time (a response adopted while its
                    // clock is behind is served until its clock says nextUpdate), and a step of its own clock is noticed by
                    // the clock watch, not by the expiry timers (which run on elapsed time).
                    Assert.True(served.NextUpdate > now || served.NextUpdate > wall.GetUtcNow(),
                        $"Seed {seed}, step {step} ({action}): served for {leaf.SerialNumber} a response past its nextUpdate {served.NextUpdate:u} (now {now:u}, the provider's clock {wall.GetUtcNow():u})\n{string.Join('\n', log.TakeLast(10))}");
                }
                else if (registration!.State.Staple is { Status: OcspCertificateStatus.Good } held && held.NextUpdate > now && held.NextUpdate > wall.GetUtcNow())
                {
                    // Liveness: a valid good response held in memory is served.
                    Assert.Fail($"Seed {seed}, step {step} ({action}): {leaf.SerialNumber} holds a good response valid until {held.NextUpdate:u} that is not served\n{string.Join('\n', log.TakeLast(10))}");
                }
            }

            // No storm: each certificate's upstream requests within a simulated hour stay within the back-off schedule.
            foreach (OcspCertificateId id in fixture.Responder.ReceivedCertificateIds)
            {
                requestsThisHour[id] = requestsThisHour.GetValueOrDefault(id) + 1;
            }

            fixture.Responder.ClearReceivedCertificateIds();
            (OcspCertificateId Id, int Count) worst = requestsThisHour.Count == 0 ? default : requestsThisHour.MaxBy(p => p.Value) is var p ? (p.Key, p.Value) : default;
            Assert.True(worst.Count <= MaxRequestsPerCertificatePerHour,
                $"Seed {seed}, step {step} ({action}): {worst.Count} upstream requests within an hour for {worst.Id}\n{string.Join('\n', log.TakeLast(10))}");
            if (now - hourStart >= TimeSpan.FromHours(1))
            {
                requestsThisHour.Clear();
                hourStart = now;
            }
        }

        string Key(X509Certificate2 leaf) => new OcspSharedStoreOptions().KeyPrefix + OcspCertificateId.Create(leaf, issuer).CacheKey;
    }
}
