using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Ocsp.Stapling.Internal;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tests.Tls;

/// <summary>The TLS component on a raw <see cref="SslStream"/> server (no ASP.NET Core), checked with openssl s_client.</summary>
public sealed class OcspStaplingContextsTests(RealTimeFixture fixture) : IClassFixture<RealTimeFixture>
{
    [SkippableTheory]
    [InlineData("-tls1_2")]
    [InlineData("-tls1_3")]
    public async Task CreateContextAsync_OpenSsl_StaplesExactlyTheProvidersStaple(string tlsVersion)
    {
        Requires.Programs("openssl");
        FakeTimeProvider time = fixture.Reset();
        X509Certificate2 leaf = fixture.NewLeaf("sslstream");
        await using Stapling stapling = await Stapling.StartAsync(time, fixture.NewCacheDirectory());
        OcspStapledCertificate sut = stapling.Contexts.GetOrCreate(leaf, fixture.Chain);
        OcspStaple staple = await stapling.WaitForStapleAsync(sut, s => s is not null);

        await using TlsServer server = TlsServer.Start(sut.Context);
        (string? ocsp, _) = await TlsClients.OpenSslStatusAsync(server.Port, ServerName(leaf), fixture.RootFile, tlsVersion);

        Assert.NotNull(ocsp);
        Assert.Contains("Cert Status: good", ocsp, StringComparison.Ordinal);
        Assert.Equal(await TlsClients.OpenSslResponseTextAsync(staple.Encoded.ToArray(), fixture.Directory), ocsp);
        Assert.True(stapling.Provider.TryGetCachedStaple(leaf, out OcspStaple? provided));
        Assert.Equal(provided.Encoded.ToArray(), SslContextFields.AppliedResponse(sut.Context));
        Assert.Equal(1, fixture.Responder.RequestCount);
    }

    [SkippableFact]
    public async Task Refresh_IsWrittenIntoTheSameLiveContext_AndRemovedAtNextUpdate()
    {
        Requires.Programs("openssl");
        FakeTimeProvider time = fixture.Reset();
        X509Certificate2 leaf = fixture.NewLeaf("sslstream-live");
        await using Stapling stapling = await Stapling.StartAsync(time, fixture.NewCacheDirectory());
        OcspStapledCertificate sut = stapling.Contexts.GetOrCreate(leaf, fixture.Chain);
        OcspStaple first = await stapling.WaitForStapleAsync(sut, s => s is not null);
        await using TlsServer server = TlsServer.Start(sut.Context);
        string firstText = (await TlsClients.OpenSslStatusAsync(server.Port, ServerName(leaf), fixture.RootFile, "-tls1_3")).Ocsp!;

        // Half-life of the 4-day responses: the provider refreshes; the same context (same server) staples the new one.
        time.Advance(TimeSpan.FromDays(2) + TimeSpan.FromMinutes(1));
        OcspStaple second = await stapling.WaitForStapleAsync(sut, s => s is not null && s.ProducedAt > first.ProducedAt);
        string? secondText = (await TlsClients.OpenSslStatusAsync(server.Port, ServerName(leaf), fixture.RootFile, "-tls1_3")).Ocsp;
        Assert.Equal(await TlsClients.OpenSslResponseTextAsync(second.Encoded.ToArray(), fixture.Directory), secondText);
        Assert.NotEqual(firstText, secondText);

        // The responder goes down: the held staple is served until its nextUpdate, and never after.
        fixture.Responder.Fault = ResponderFault.Down;
        time.SetUtcNow(second.NextUpdate + TimeSpan.FromSeconds(1));
        await stapling.WaitForStapleAsync(sut, s => s is null);
        Assert.Null(SslContextFields.AppliedResponse(sut.Context));
        Assert.Null((await TlsClients.OpenSslStatusAsync(server.Port, ServerName(leaf), fixture.RootFile, "-tls1_2")).Ocsp);
    }

    /// <summary>
    /// The runtime decides whether to install its OCSP callback when it first builds a context's native TLS context
    /// (and caches it): a context that served handshakes before any staple existed must still staple once one arrives.
    /// </summary>
    [SkippableTheory]
    [InlineData("-tls1_2")]
    [InlineData("-tls1_3")]
    public async Task ContextHandshakenBeforeItsFirstStaple_StaplesOnceOneArrives(string tlsVersion)
    {
        Requires.Programs("openssl");
        FakeTimeProvider time = fixture.Reset();
        fixture.Responder.Fault = ResponderFault.Down;
        X509Certificate2 leaf = fixture.NewLeaf("before-first-staple");
        await using Stapling stapling = await Stapling.StartAsync(time, fixture.NewCacheDirectory());
        OcspStapledCertificate sut = stapling.Contexts.GetOrCreate(leaf, fixture.Chain);
        await stapling.Registry.RefreshAsync(leaf); // the responder is down: no staple
        Assert.Null(sut.ServedStaple);
        await using TlsServer server = TlsServer.Start(sut.Context);

        (string? before, _) = await TlsClients.OpenSslStatusAsync(server.Port, ServerName(leaf), fixture.RootFile, tlsVersion);
        fixture.Responder.Fault = ResponderFault.None;
        time.Advance(TimeSpan.FromMinutes(2)); // past the failure back-off: the scheduler asks again
        OcspStaple staple = await stapling.WaitForStapleAsync(sut, s => s is not null);
        (string? after, _) = await TlsClients.OpenSslStatusAsync(server.Port, ServerName(leaf), fixture.RootFile, tlsVersion);

        Assert.Null(before);
        Assert.NotNull(after);
        Assert.Contains("Cert Status: good", after, StringComparison.Ordinal);
        Assert.Equal(await TlsClients.OpenSslResponseTextAsync(staple.Encoded.ToArray(), fixture.Directory), after);
    }

    [Fact]
    public async Task GetOrCreate_SameCertificate_OneContextForEveryInstance()
    {
        FakeTimeProvider time = fixture.Reset();
        await using Stapling stapling = await Stapling.StartAsync(time, fixture.NewCacheDirectory());
        X509Certificate2 leaf = fixture.NewLeaf("one-context");
        using X509Certificate2 copy = X509CertificateLoader.LoadPkcs12(leaf.Export(X509ContentType.Pkcs12), null);

        OcspStapledCertificate a = stapling.Contexts.GetOrCreate(leaf, fixture.Chain);
        OcspStapledCertificate b = stapling.Contexts.GetOrCreate(copy, fixture.Chain);

        Assert.Same(a, b);
        Assert.True(a.IsStapling);
        Assert.Equal(fixture.Pki.Intermediate.Thumbprint, a.Issuer!.Thumbprint);
        Assert.Single(stapling.Registry.GetStates());
    }

    [Fact]
    public async Task GetOrCreate_IssuerNowhere_ServesUnstapledAndSaysWhy()
    {
        FakeTimeProvider time = fixture.Reset();
        await using Stapling stapling = await Stapling.StartAsync(time, fixture.NewCacheDirectory());

        OcspStapledCertificate sut = stapling.Contexts.GetOrCreate(fixture.NewLeaf("orphan"), chain: null);

        Assert.False(sut.IsStapling);
        Assert.Null(sut.Issuer);
        Assert.Equal(OcspNotStaplingReason.IssuerNotFound, sut.NotStaplingReason);
        Assert.Contains("neither in the chain given nor in the certificate store", sut.NotStaplingDetail, StringComparison.Ordinal);
        Assert.Contains(stapling.Logs.Entries, e => e.EventId == Log.IssuerNotFoundId && e.Level == LogLevel.Error);
        Assert.Empty(stapling.Registry.GetStates());
        Assert.Equal(sut.Certificate.Thumbprint, await TlsServer.HandshakeAsync(sut.Context));
    }

    [Fact]
    public async Task GetOrCreate_Unsupported_ServesTlsWithoutStapleAndWarnsOnce()
    {
        FakeTimeProvider time = fixture.Reset();
        await using Stapling stapling = await Stapling.StartAsync(time, fixture.NewCacheDirectory());
        using var sut = new OcspStaplingContexts(stapling.Registry, stapling.Provider, stapling.Logs.CreateLogger("tls"), new NotStapling(OcspNotStaplingReason.UnsupportedRuntime, "forced off by the test"));

        OcspStapledCertificate first = sut.GetOrCreate(fixture.NewLeaf("off-1"), fixture.Chain);
        OcspStapledCertificate second = sut.GetOrCreate(fixture.NewLeaf("off-2"), fixture.Chain);

        Assert.False(first.IsStapling);
        Assert.False(second.IsStapling);
        Assert.Equal(OcspNotStaplingReason.UnsupportedRuntime, first.NotStaplingReason);
        Assert.Equal(OcspNotStaplingReason.UnsupportedRuntime, sut.NotStaplingReason);
        Assert.Contains("forced off by the test", first.NotStaplingDetail, StringComparison.Ordinal);
        Assert.Single(stapling.Logs.Entries, e => e.EventId == Log.StaplingUnsupportedId && e.Level == LogLevel.Warning);
        Assert.Equal(first.Certificate.Thumbprint, await TlsServer.HandshakeAsync(first.Context));
    }

    [Fact]
    public async Task CreateContextAsync_AfterRestartWithResponderDown_CarriesTheSharedCachesStaple()
    {
        FakeTimeProvider time = fixture.Reset();
        X509Certificate2 leaf = fixture.NewLeaf("sslstream-restart");
        string cache = fixture.NewCacheDirectory();
        byte[] persisted;
        await using (Stapling before = await Stapling.StartAsync(time, cache))
        {
            OcspStapledCertificate entry = before.Contexts.GetOrCreate(leaf, fixture.Chain);
            persisted = (await before.WaitForStapleAsync(entry, s => s is not null)).Encoded.ToArray();
        }

        fixture.Responder.Fault = ResponderFault.Down;
        using X509Certificate2 reloaded = X509CertificateLoader.LoadPkcs12(leaf.Export(X509ContentType.Pkcs12), null);
        await using Stapling after = await Stapling.StartAsync(time, cache);

        SslStreamCertificateContext context = await after.Contexts.CreateContextAsync(reloaded, fixture.Chain);

        Assert.Equal(persisted, SslContextFields.AppliedResponse(context));
    }

    [Fact]
    public async Task Remove_UnregistersAndClearsTheContext()
    {
        FakeTimeProvider time = fixture.Reset();
        X509Certificate2 leaf = fixture.NewLeaf("sslstream-remove");
        await using Stapling stapling = await Stapling.StartAsync(time, fixture.NewCacheDirectory());
        OcspStapledCertificate sut = stapling.Contexts.GetOrCreate(leaf, fixture.Chain);
        await stapling.WaitForStapleAsync(sut, s => s is not null);

        Assert.True(stapling.Contexts.Remove(leaf));

        Assert.Null(sut.ServedStaple);
        Assert.Null(SslContextFields.AppliedResponse(sut.Context));
        Assert.Empty(stapling.Registry.GetStates());
        Assert.Empty(stapling.Contexts.Certificates);
        Assert.NotSame(sut, stapling.Contexts.GetOrCreate(leaf, fixture.Chain));
    }

    [Fact]
    public async Task CreateContextAsync_ColdCache_ReturnsTheContextWithTheResponderFirstAnswer()
    {
        FakeTimeProvider time = fixture.Reset();
        X509Certificate2 leaf = fixture.NewLeaf("sslstream-cold");
        await using Stapling stapling = await Stapling.StartAsync(time, fixture.NewCacheDirectory());

        SslStreamCertificateContext sut = await stapling.Contexts.CreateContextAsync(leaf, fixture.Chain);

        Assert.True(stapling.Provider.TryGetCachedStaple(leaf, out OcspStaple? staple));
        Assert.Equal(staple.Encoded.ToArray(), SslContextFields.AppliedResponse(sut));
        Assert.Equal(1, fixture.Responder.RequestCount);
    }

    [SkippableFact]
    public async Task WatchPemFiles_FilesRenewed_NewCertificatePreparedThenServed_OldUnregistered()
    {
        Requires.Programs("openssl");
        FakeTimeProvider time = fixture.Reset();
        X509Certificate2 old = fixture.NewLeaf("sslstream-rotate-old");
        X509Certificate2 renewed = fixture.NewLeaf("sslstream-rotate-new");
        var files = new ServerCertificateFiles(Path.Combine(fixture.Directory, Guid.NewGuid().ToString("N"))).WritePem(old, fixture.Pki.Intermediate);
        await using Stapling stapling = await Stapling.StartAsync(time, fixture.NewCacheDirectory());
        using OcspCertificateFileSource sut = stapling.Contexts.WatchPemFiles(files.FullChain, files.Key);
        Assert.Same(sut, stapling.Contexts.WatchPemFiles(files.FullChain, files.Key));
        await stapling.Contexts.PrepareAsync(sut.Current);
        OcspStapledCertificate before = sut.Current;
        var rotated = new TaskCompletionSource<OcspCertificateRotatedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        sut.Rotated += (_, e) => rotated.TrySetResult(e);

        files.WritePem(renewed, fixture.Pki.Intermediate);
        Assert.True(await sut.ReloadAsync());

        OcspCertificateRotatedEventArgs e = await rotated.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Same(before, e.Previous);
        Assert.Same(sut.Current, e.Current);
        Assert.Equal(renewed.RawData, sut.Current.Certificate.RawData);
        Assert.True(stapling.Provider.TryGetCachedStaple(renewed, out OcspStaple? staple));
        Assert.Equal(staple.Encoded.ToArray(), SslContextFields.AppliedResponse(sut.Context));
        Assert.Null(stapling.Registry.GetState(old));
        Assert.Null(before.ServedStaple);
        Assert.False(await sut.ReloadAsync());

        await using TlsServer server = TlsServer.Start(sut.Context);
        (string? ocsp, _) = await TlsClients.OpenSslStatusAsync(server.Port, ServerName(renewed), fixture.RootFile, "-tls1_3");
        Assert.Contains("Serial Number: " + TestPki.OpenSslSerial(renewed), ocsp, StringComparison.Ordinal);
        Assert.Contains("Cert Status: good", ocsp, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WatchPfxFile_KeyOfAnotherCertificate_NeverServed()
    {
        FakeTimeProvider time = fixture.Reset();
        X509Certificate2 old = fixture.NewLeaf("sslstream-pfx-old");
        X509Certificate2 renewed = fixture.NewLeaf("sslstream-pfx-new");
        var files = new ServerCertificateFiles(Path.Combine(fixture.Directory, Guid.NewGuid().ToString("N"))).WritePfx(old, fixture.Pki.Intermediate);
        await using Stapling stapling = await Stapling.StartAsync(time, fixture.NewCacheDirectory());
        using OcspCertificateFileSource sut = stapling.Contexts.WatchPfxFile(files.Pfx, ServerCertificateFiles.PfxPassword);

        File.WriteAllBytes(files.Pfx, new X509Certificate2Collection { X509CertificateLoader.LoadCertificate(renewed.RawData) }.Export(X509ContentType.Pkcs12, ServerCertificateFiles.PfxPassword)!);

        Assert.False(await sut.ReloadAsync());
        Assert.Contains("no certificate with a private key", sut.LastError, StringComparison.Ordinal);
        Assert.Equal(old.RawData, sut.Current.Certificate.RawData);
        Assert.NotNull(stapling.Registry.GetState(old));
        Assert.Null(stapling.Registry.GetState(renewed));
    }

    private static string ServerName(X509Certificate2 leaf) => leaf.GetNameInfo(X509NameType.DnsName, forIssuer: false);

    /// <summary><c>AddOcspStapling()</c> in a generic host (no ASP.NET Core) on a fake clock, started.</summary>
    private sealed class Stapling : IAsyncDisposable
    {
        private readonly IHost _host;

        private Stapling(IHost host, LogCapture logs)
        {
            _host = host;
            Logs = logs;
        }

        public LogCapture Logs { get; }

        public OcspStaplingContexts Contexts => _host.Services.GetRequiredService<OcspStaplingContexts>();

        public IOcspResponseProvider Provider => _host.Services.GetRequiredService<IOcspResponseProvider>();

        public OcspCertificateRegistry Registry => _host.Services.GetRequiredService<OcspCertificateRegistry>();

        public static async Task<Stapling> StartAsync(FakeTimeProvider time, string cacheDirectory)
        {
            var logs = new LogCapture();
            HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
            builder.Logging.AddProvider(logs).SetMinimumLevel(LogLevel.Debug);
            builder.Services.AddSingleton<TimeProvider>(time);
            builder.Services.AddOcspStapling(o =>
            {
                o.Refresh.Jitter = 0;
                o.Fetch.Retry.MaxAttempts = 0;
                o.SharedStore.Directory = cacheDirectory;
            });
            IHost host = builder.Build();
            await host.StartAsync();
            return new Stapling(host, logs);
        }

        /// <summary>Waits (on the provider's notifications, no polling) until the context's staple satisfies <paramref name="condition"/>.</summary>
        public async Task<OcspStaple> WaitForStapleAsync(OcspStapledCertificate certificate, Func<OcspStaple?, bool> condition)
        {
            var signal = new SemaphoreSlim(0);
            void OnChange(object? sender, EventArgs e) => signal.Release();
            Registry.StapleUpdated += OnChange;
            Registry.StapleRemoved += OnChange;
            Registry.StapleFailed += OnChange;
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                while (!condition(certificate.ServedStaple))
                {
                    await signal.WaitAsync(timeout.Token);
                }

                return certificate.ServedStaple!;
            }
            finally
            {
                Registry.StapleUpdated -= OnChange;
                Registry.StapleRemoved -= OnChange;
                Registry.StapleFailed -= OnChange;
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _host.StopAsync();
            _host.Dispose();
        }
    }

    /// <summary>A TLS server on a raw <see cref="TcpListener"/> + <see cref="SslStream"/>, serving one context until disposed.</summary>
    private sealed class TlsServer : IAsyncDisposable
    {
        private readonly TcpListener _listener;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;

        private TlsServer(TcpListener listener, SslStreamCertificateContext context)
        {
            _listener = listener;
            _loop = AcceptAsync(context);
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public static TlsServer Start(SslStreamCertificateContext context)
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return new TlsServer(listener, context);
        }

        /// <summary>A .NET client handshake against <paramref name="context"/> over loopback; the thumbprint the client saw.</summary>
        public static async Task<string> HandshakeAsync(SslStreamCertificateContext context)
        {
            await using TlsServer server = Start(context);
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, server.Port);
            await using var tls = new SslStream(client.GetStream());
            string? seen = null;
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "localhost",
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                {
                    seen = certificate?.GetCertHashString();
                    return certificate is not null; // Identity is not under test here, only that TLS is served with the certificate.
                },
            });
            return seen!;
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            await _loop;
            _stop.Dispose();
        }

        private async Task AcceptAsync(SslStreamCertificateContext context)
        {
            while (!_stop.IsCancellationRequested)
            {
                TcpClient client;
                try
                {
                    client = await _listener.AcceptTcpClientAsync(_stop.Token);
                }
                catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
                {
                    return;
                }

                _ = ServeAsync(client, context);
            }
        }

        private static async Task ServeAsync(TcpClient client, SslStreamCertificateContext context)
        {
            using (client)
            {
                try
                {
                    await using var tls = new SslStream(client.GetStream());
                    await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificateContext = context });
                    await tls.WriteAsync("ok\n"u8.ToArray());
                    await tls.ShutdownAsync();
                }
                catch (Exception ex) when (ex is IOException or System.Security.Authentication.AuthenticationException)
                {
                    // A client that hung up mid-handshake: nothing to serve.
                }
            }
        }
    }
}
