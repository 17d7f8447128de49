using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using Ocsp.Stapling.Testing;
using Xunit.Abstractions;

namespace Ocsp.Stapling.Tool.Tests.Commands;

/// <summary>
/// A fleet that is killed: three <c>serve --ca</c> processes on one Redis and one on PostgreSQL, asked continuously by a
/// client, while processes are killed with SIGKILL and restarted, Redis is killed and restarted empty, and the responder
/// drops every connection for a while. Every answer must be a valid response with the certificate's true status, or
/// tryLater (the documented refusal); a process must answer every certificate correctly again within a bound of being back
/// (and of the responder being back, when nothing it can reach still holds the response).
/// CI runs it for <see cref="DefaultSeconds"/>; <c>eng/fleet-kill.sh SECONDS [SEED]</c> runs it longer
/// (<c>OCSP_STAPLING_FLEET_SECONDS</c>, <c>OCSP_STAPLING_FLEET_SEED</c>).
/// </summary>
[Collection(FleetKillCollection.Name)]
public sealed class FleetKillTests(ToolFixture fixture, ITestOutputHelper output) : IClassFixture<ToolFixture>
{
    private const int DefaultSeconds = 20; // .ci/run: 45 (OCSP_STAPLING_FLEET_SECONDS); eng/fleet-kill.sh: longer

    /// <summary>How soon a process that is back (and its responder) usually answers every certificate correctly.</summary>
    private static readonly TimeSpan QuickRecovery = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How soon it must: <see cref="QuickRecovery"/> plus the circuit breaker's break (1 minute by default). A process
    /// that saw its responder fail during an outage keeps its breaker open that long after the responder is back, and
    /// answers tryLater for certificates nothing holds until then (measured: 18 s in a 300 s run with 25 outages).
    /// </summary>
    private static readonly TimeSpan RecoveryBound = QuickRecovery + new OcspCircuitBreakerOptions().BreakDuration;

    private static string? Postgres => Environment.GetEnvironmentVariable("OCSP_STAPLING_POSTGRES") is { Length: > 0 } value ? value : null;

    [SkippableFact]
    public async Task FleetOnRedisAndPostgres_KilledRestartedAndCutOff_AnswersOnlyValidResponsesOrTryLater_AndRecovers()
    {
        Requires.Programs("redis-server");
        Skip.If(Postgres is null, Requires.NoPostgres);
        int seconds = EnvironmentNumber("OCSP_STAPLING_FLEET_SECONDS") ?? DefaultSeconds;
        int seed = EnvironmentNumber("OCSP_STAPLING_FLEET_SEED") ?? Random.Shared.Next(1, 1_000_000);
        output.WriteLine($"fleet run: {seconds} s, seed {seed} (OCSP_STAPLING_FLEET_SEED={seed} repeats the schedule)");

        X509Certificate2 issuer = fixture.Pki.Intermediate;
        X509Certificate2[] leaves = [.. Enumerable.Range(0, 5).Select(i => fixture.NewLeaf($"fleet{i}").Certificate)];
        fixture.Responder.Revoke(leaves[^1], TimeProvider.System.GetUtcNow().AddHours(-1));
        OcspCertificateStatus[] truth = [.. leaves.Select((_, i) => i == leaves.Length - 1 ? OcspCertificateStatus.Revoked : OcspCertificateStatus.Good)];
        byte[][] requests = [.. leaves.Select(leaf => OcspRequest.Create(leaf, issuer).Encoded.ToArray())];

        await using var redis = await FleetRedis.StartAsync(Path.Combine(fixture.Directory, "fleet-redis"));
        string[] common = ["--ca", fixture.IssuerFile, "--allow-responder", fixture.Responder.Url.AbsoluteUri];
        string redisConfiguration = $"127.0.0.1:{redis.Port},connectTimeout=1000,syncTimeout=1000";
        var tally = new Tally();
        Slot[] slots =
        [
            new("redis-1", ["--redis", redisConfiguration, .. common], leaves.Length),
            new("redis-2", ["--redis", redisConfiguration, .. common], leaves.Length),
            new("redis-3", ["--redis", redisConfiguration, .. common], leaves.Length),
            new("postgres", ["--postgres", Postgres!, .. common], leaves.Length),
        ];
        var random = new Random(seed);
        var background = new List<Task>();
        using var stop = new CancellationTokenSource();
        Task[] clients = [];
        try
        {
            await Task.WhenAll(slots.Select(slot => slot.StartAsync()));
            clients = [.. slots.Select(slot => AskContinuouslyAsync(slot, requests, leaves, truth, issuer, tally, stop.Token))];

            DateTimeOffset end = DateTimeOffset.UtcNow.AddSeconds(seconds);
            while (DateTimeOffset.UtcNow < end)
            {
                await Task.Delay(random.Next(1500, 4000));
                double roll = random.NextDouble();
                if (roll < 0.55)
                {
                    Slot slot = slots[random.Next(slots.Length)];
                    int downFor = random.Next(300, 3000);
                    if (slot.TryBeginRestart())
                    {
                        Interlocked.Increment(ref tally.Kills);
                        background.Add(KillAndRestartAsync(slot, downFor));
                    }
                }
                else if (roll < 0.75)
                {
                    Interlocked.Increment(ref tally.RedisRestarts);
                    await redis.KillAndRestartEmptyAsync();
                }
                else if (fixture.Responder.Fault == ResponderFault.None)
                {
                    Interlocked.Increment(ref tally.ResponderOutages);
                    fixture.Responder.Fault = ResponderFault.Down;
                    background.Add(ResponderBackAfterAsync(random.Next(2000, 7000), slots));
                }
            }

            await Task.WhenAll(background);
            fixture.Responder.Fault = ResponderFault.None;
            foreach (Slot slot in slots)
            {
                slot.ResponderBack(DateTimeOffset.UtcNow);
            }

            await Task.WhenAll(slots.Select(slot => slot.WhenRecoveredAsync(RecoveryBound + TimeSpan.FromSeconds(15))));
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(clients);
            fixture.Responder.Fault = ResponderFault.None;
            foreach (Slot slot in slots)
            {
                await slot.DisposeAsync();
            }
        }

        TimeSpan[] recoveries = [.. slots.SelectMany(slot => slot.Recoveries).Order()];
        output.WriteLine(
            $"{tally.Requests} requests: {tally.Good} good, {tally.Revoked} revoked (the revoked certificate), {tally.TryLater} tryLater, " +
            $"{tally.Unreachable} while a process was down (connection refused or reset), {tally.Timeouts} timed out, {tally.Wrong.Count} wrong");
        output.WriteLine(
            $"{tally.Kills} SIGKILLs, {tally.RedisRestarts} Redis restarts (empty), {tally.ResponderOutages} responder outages; " +
            $"{recoveries.Length} recoveries, median {Median(recoveries).TotalMilliseconds:0} ms, slowest {(recoveries.Length > 0 ? recoveries[^1] : TimeSpan.Zero).TotalMilliseconds:0} ms, " +
            $"{recoveries.Count(r => r > QuickRecovery)} over {QuickRecovery.TotalSeconds:0} s (bound {RecoveryBound.TotalSeconds:0} s: that plus the circuit breaker's break)");
        foreach (Slot slot in slots)
        {
            output.WriteLine($"  {slot.Name}: {slot.Starts} starts, answers {slot.Answers}; recovered in {string.Join(", ", slot.Recoveries.Select(r => $"{r.TotalMilliseconds:0} ms"))}");
        }

        Assert.True(tally.Wrong.IsEmpty, $"seed {seed}: wrong answers:\n{string.Join('\n', tally.Wrong.Take(10))}");
        Assert.True(tally.Good > 0 && tally.Revoked > 0, $"seed {seed}: nothing answered");
        Assert.True(tally.Kills > 0, $"seed {seed}: no process was killed in {seconds} s");
        Assert.All(slots, slot => Assert.True(slot.Recovered, $"seed {seed}: {slot.Name} did not answer every certificate after its last start:\n{slot.LastOutput}"));
        Assert.True(
            recoveries.Length == 0 || recoveries[^1] <= RecoveryBound,
            $"seed {seed}: a process took {recoveries[^1].TotalSeconds:0.0} s to answer every certificate again (bound {RecoveryBound.TotalSeconds:0} s)");

        async Task KillAndRestartAsync(Slot slot, int downForMilliseconds)
        {
            await slot.KillAsync();
            await Task.Delay(downForMilliseconds);
            await slot.StartAsync();
        }

        async Task ResponderBackAfterAsync(int milliseconds, Slot[] all)
        {
            await Task.Delay(milliseconds);
            fixture.Responder.Fault = ResponderFault.None;
            foreach (Slot slot in all)
            {
                slot.ResponderBack(DateTimeOffset.UtcNow);
            }
        }
    }

    private static async Task AskContinuouslyAsync(
        Slot slot, byte[][] requests, X509Certificate2[] leaves, OcspCertificateStatus[] truth, X509Certificate2 issuer, Tally tally, CancellationToken stop)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        int next = 0;
        while (!stop.IsCancellationRequested)
        {
            (Uri? url, int generation) = slot.Current;
            if (url is null)
            {
                await Task.Delay(20, CancellationToken.None);
                continue;
            }

            int index = next++ % requests.Length;
            Interlocked.Increment(ref tally.Requests);
            byte[] body;
            HttpStatusCode status;
            try
            {
                using var content = new ByteArrayContent(requests[index]);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/ocsp-request");
                using HttpResponseMessage response = await client.PostAsync(url, content, CancellationToken.None);
                status = response.StatusCode;
                body = await response.Content.ReadAsByteArrayAsync(CancellationToken.None);
            }
            catch (HttpRequestException)
            {
                Interlocked.Increment(ref tally.Unreachable);
                slot.Count("unreachable");
                continue;
            }
            catch (TaskCanceledException)
            {
                Interlocked.Increment(ref tally.Timeouts);
                slot.Count("timeout");
                continue;
            }

            DateTimeOffset now = DateTimeOffset.UtcNow;
            string? wrong = null;
            if (status != HttpStatusCode.OK)
            {
                wrong = $"HTTP {(int)status}";
            }
            else if (TryLaterResponse(body))
            {
                Interlocked.Increment(ref tally.TryLater);
                slot.Count("tryLater");
                continue;
            }
            else
            {
                OcspValidationResult validation = OcspResponseValidator.Validate(body, leaves[index], issuer, now);
                if (!validation.IsValid)
                {
                    wrong = $"invalid: {validation.Message}";
                }
                else if (validation.Staple!.Status != truth[index])
                {
                    wrong = $"{validation.Staple.Status} for a certificate that is {truth[index]}";
                }
            }

            if (wrong is not null)
            {
                tally.Wrong.Enqueue($"{now:HH:mm:ss.fff} {slot.Name} certificate {index}: {wrong}");
                slot.Count("wrong");
                continue;
            }

            if (truth[index] == OcspCertificateStatus.Revoked)
            {
                Interlocked.Increment(ref tally.Revoked);
                slot.Count("revoked");
            }
            else
            {
                Interlocked.Increment(ref tally.Good);
                slot.Count("good");
            }

            slot.Answered(generation, index, now);
        }
    }

    private static bool TryLaterResponse(byte[] body)
    {
        try
        {
            return OcspResponse.Parse(body).Status == OcspResponseStatus.TryLater;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static int? EnvironmentNumber(string name) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.None, CultureInfo.InvariantCulture, out int value) ? value : null;

    private static TimeSpan Median(TimeSpan[] sorted) => sorted.Length == 0 ? TimeSpan.Zero : sorted[sorted.Length / 2];

    private sealed class Tally
    {
        public readonly System.Collections.Concurrent.ConcurrentQueue<string> Wrong = new();
        public int Requests;
        public int Good;
        public int Revoked;
        public int TryLater;
        public int Unreachable;
        public int Timeouts;
        public int Kills;
        public int RedisRestarts;
        public int ResponderOutages;
    }

    /// <summary>One serve process of the fleet across its restarts, and when it is owed a full set of correct answers.</summary>
    private sealed class Slot(string name, string[] arguments, int certificates) : IAsyncDisposable
    {
        private readonly Lock _lock = new();
        private readonly bool[] _answered = new bool[certificates];
        private readonly Dictionary<string, int> _answers = new(StringComparer.Ordinal);
        private readonly List<TimeSpan> _recoveries = [];
        private ServeProcess? _process;
        private Uri? _url;
        private int _generation;
        private bool _restarting;
        private DateTimeOffset? _owedSince;
        private TaskCompletionSource _recovered = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Name { get; } = name;

        public int Starts { get; private set; }

        public (Uri? Url, int Generation) Current
        {
            get
            {
                lock (_lock)
                {
                    return (_url, _generation);
                }
            }
        }

        public IReadOnlyList<TimeSpan> Recoveries
        {
            get
            {
                lock (_lock)
                {
                    return [.. _recoveries];
                }
            }
        }

        public bool Recovered
        {
            get
            {
                lock (_lock)
                {
                    return _owedSince is null && _url is not null;
                }
            }
        }

        public string Answers
        {
            get
            {
                lock (_lock)
                {
                    return string.Join(", ", _answers.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => $"{a.Value} {a.Key}"));
                }
            }
        }

        public string LastOutput => _process?.Output ?? "(not running)";

        public bool TryBeginRestart()
        {
            lock (_lock)
            {
                if (_restarting || _url is null)
                {
                    return false;
                }

                _restarting = true;
                return true;
            }
        }

        public async Task StartAsync()
        {
            ServeProcess process = await ServeProcess.StartAsync(requestLines: false, arguments);
            lock (_lock)
            {
                _process = process;
                _url = process.Url;
                _generation++;
                Starts++;
                _restarting = false;
                Array.Clear(_answered);
                _owedSince = DateTimeOffset.UtcNow;
                _recovered = new(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }

        public async Task KillAsync()
        {
            ServeProcess? process;
            lock (_lock)
            {
                process = _process;
                _url = null;
                _owedSince = null;
            }

            if (process is not null)
            {
                await process.KillAsync();
                await process.DisposeAsync();
            }
        }

        /// <summary>The responder answers again: a process still owed answers is owed them from now at the latest.</summary>
        public void ResponderBack(DateTimeOffset now)
        {
            lock (_lock)
            {
                if (_owedSince is { } since && since < now)
                {
                    _owedSince = now;
                }
            }
        }

        public void Answered(int generation, int index, DateTimeOffset now)
        {
            lock (_lock)
            {
                if (generation != _generation || _owedSince is not { } since)
                {
                    return;
                }

                _answered[index] = true;
                if (Array.TrueForAll(_answered, answered => answered))
                {
                    _recoveries.Add(now > since ? now - since : TimeSpan.Zero);
                    _owedSince = null;
                    _recovered.TrySetResult();
                }
            }
        }

        public void Count(string kind)
        {
            lock (_lock)
            {
                _answers[kind] = _answers.GetValueOrDefault(kind) + 1;
            }
        }

        public async Task WhenRecoveredAsync(TimeSpan timeout)
        {
            Task recovered;
            lock (_lock)
            {
                if (_owedSince is null)
                {
                    return;
                }

                recovered = _recovered.Task;
            }

            try
            {
                await recovered.WaitAsync(timeout);
            }
            catch (TimeoutException)
            {
                // Reported by the assertion on Recovered, with the process's output.
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (_process is not null)
            {
                await _process.DisposeAsync();
            }
        }
    }

    /// <summary>A Redis server of the test's own on a fixed loopback port, killed with SIGKILL and restarted empty on the same port.</summary>
    private sealed class FleetRedis : IAsyncDisposable
    {
        private readonly string _directory;

        private FleetRedis(string directory, int port)
        {
            _directory = directory;
            Port = port;
        }

        public int Port { get; }

        private string PidFile => Path.Combine(_directory, "redis.pid");

        public static async Task<FleetRedis> StartAsync(string directory)
        {
            Directory.CreateDirectory(directory);
            var redis = new FleetRedis(directory, ToolFixture.FreePort());
            await redis.StartServerAsync();
            return redis;
        }

        public async Task KillAndRestartEmptyAsync()
        {
            await KillServerAsync();
            await StartServerAsync();
        }

        public async ValueTask DisposeAsync() => await KillServerAsync();

        private async Task StartServerAsync()
        {
            File.Delete(PidFile);
            ProgramResult started = await ExternalProgram.RunAsync(
                "redis-server",
                ["--bind", "127.0.0.1", "--port", Port.ToString(CultureInfo.InvariantCulture), "--save", "", "--appendonly", "no",
                 "--daemonize", "yes", "--pidfile", PidFile, "--dir", _directory, "--logfile", Path.Combine(_directory, "redis.log")]);
            Assert.True(started.ExitCode == 0, started.ToString());
            for (int attempt = 0; attempt < 100; attempt++)
            {
                if (File.Exists(PidFile) && await AcceptsAsync())
                {
                    return;
                }

                await Task.Delay(50);
            }

            Assert.Fail($"redis-server did not start on {Port}: {File.ReadAllText(Path.Combine(_directory, "redis.log"))}");
        }

        private async Task KillServerAsync()
        {
            if (!File.Exists(PidFile) || !int.TryParse(File.ReadAllText(PidFile).Trim(), CultureInfo.InvariantCulture, out int pid))
            {
                return;
            }

            await ExternalProgram.RunAsync("kill", ["-KILL", pid.ToString(CultureInfo.InvariantCulture)]);
            for (int attempt = 0; attempt < 200 && Directory.Exists($"/proc/{pid}"); attempt++)
            {
                await Task.Delay(25);
            }

            File.Delete(PidFile);
        }

        private async Task<bool> AcceptsAsync()
        {
            try
            {
                using var client = new System.Net.Sockets.TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                return true;
            }
            catch (System.Net.Sockets.SocketException)
            {
                return false;
            }
        }
    }
}

/// <summary>
/// The killed fleet runs alone, after the other tests: four serve processes answering thousands of requests a second
/// load Redis, PostgreSQL and both cores, and tests running beside it saw their store reads time out.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
#pragma warning disable CA1711 // xunit's word.
public sealed class FleetKillCollection
#pragma warning restore CA1711
{
    public const string Name = "Killed fleet (alone)";
}
