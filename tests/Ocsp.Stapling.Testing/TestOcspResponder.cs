using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Ocsp.Stapling.Testing;

/// <summary>
/// An OCSP responder on 127.0.0.1 (Kestrel, ephemeral port) answering GET and POST under <see cref="Url"/>, signing with
/// the configured issuer or delegated responder, with switchable faults and a request counter.
/// </summary>
public sealed class TestOcspResponder : IAsyncDisposable
{
    private const string BasePath = "/ocsp";
    private const int MaxRequestBody = 64 * 1024;

    /// <summary>Requests under this prefix (<c>/moved/ocsp/…</c>) are answered normally even with <see cref="ResponderFault.Redirect"/>: a redirect target on the same origin.</summary>
    public const string MovedPath = "/moved";

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, (DateTimeOffset Time, OcspRevocationReason? Reason)> _revoked = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _methods = new();
    private readonly ConcurrentQueue<OcspCertificateId> _received = new();
    private readonly List<(int Count, TaskCompletionSource Waiter)> _receivedWaiters = [];
    private readonly List<(X509Certificate2 Issuer, X509Certificate2 Signer)> _issuers = [];
    private TaskCompletionSource _slowRelease = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<(int Count, TaskCompletionSource Waiter)> _requestWaiters = [];
    private int _requestCount;
    private int _directRequests;
    private long _endlessBytesSent;
    private static readonly Lazy<byte[]> GzipBombBody = new(CreateGzipBomb);

    private TestOcspResponder(WebApplication app, Uri url, TimeProvider time)
    {
        _app = app;
        Url = url;
        Time = time;
    }

    /// <summary>The responder URL to put in AIA extensions: <c>http://127.0.0.1:PORT/ocsp</c>.</summary>
    public Uri Url { get; }

    public TimeProvider Time { get; set; }

    public ResponderFault Fault { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether only requests that came through an HTTP proxy (a <c>Via</c> header) are
    /// answered; others are dropped unanswered and uncounted (<see cref="DirectRequestCount"/>): a responder behind a firewall.
    /// </summary>
    public bool RequireVia { get; set; }

    /// <summary>Gets the requests dropped by <see cref="RequireVia"/>.</summary>
    public int DirectRequestCount => Volatile.Read(ref _directRequests);

    /// <summary>
    /// Gets or sets the serials (hex, as <see cref="OcspCertificateId.SerialNumberHex"/>) this responder knows, as a real
    /// CA's does: a CertID of a known issuer with another serial is answered <c>unknown</c>, signed. <see langword="null"/>
    /// (the default): every serial is known.
    /// </summary>
    public ISet<string>? IssuedSerials { get; set; }

    /// <summary>
    /// Gets or sets a fault per request, by its CertID (a size-limited responder's HTTP 400, a responder that answers
    /// SHA-256 CertIDs <c>unauthorized</c>): <see cref="ResponderFault.Http400"/>, <see cref="ResponderFault.Unauthorized"/>
    /// or <see cref="ResponderFault.MalformedRequest"/> are applied; anything else is answered as usual.
    /// </summary>
    public Func<OcspCertificateId, ResponderFault>? FaultFor { get; set; }

    /// <summary>Gets or sets a <c>Retry-After</c> (seconds) that turns <see cref="ResponderFault.Http500"/> into <c>503 Service Unavailable</c> with that header.</summary>
    public TimeSpan? RetryAfter { get; set; }

    /// <summary>Gets or sets the <c>Location</c> of <see cref="ResponderFault.Redirect"/> answers: any text, sent as is but for <c>{target}</c>, replaced by the request's target.</summary>
    public string? RedirectLocation { get; set; }

    /// <summary>Bytes of body written by the faults that send without end (<see cref="ResponderFault.EndlessBody"/> and the like).</summary>
    public long EndlessBytesSent => Interlocked.Read(ref _endlessBytesSent);

    /// <summary>nextUpdate − thisUpdate of the responses. Default 4 days.</summary>
    public TimeSpan Validity { get; set; } = TimeSpan.FromDays(4);

    /// <summary>Identify the signer by key hash instead of name.</summary>
    public bool ResponderIdByKey { get; set; }

    /// <summary>Signs <see cref="ResponderFault.WrongSigner"/> responses; defaults to a fresh self-signed key.</summary>
    public X509Certificate2? ForeignSigner { get; set; }

    /// <summary>Requests received, whatever their outcome (including dropped ones).</summary>
    public int RequestCount => Volatile.Read(ref _requestCount);

    /// <summary>HTTP methods of the requests received, in order.</summary>
    public IReadOnlyCollection<string> Methods => _methods;

    /// <summary>Gets the first CertID of every well-formed request since the last <see cref="Reset"/>, in arrival order.</summary>
    public IReadOnlyCollection<OcspCertificateId> ReceivedCertificateIds => _received;

    /// <summary>Starts a responder with nothing configured; call <see cref="AddIssuer"/> before use.</summary>
    /// <param name="time">The clock of its responses.</param>
    /// <param name="tlsCertificate">With a certificate (with its key, for <c>localhost</c>), it answers over HTTPS at <c>https://localhost:PORT/ocsp</c>.</param>
    public static async Task<TestOcspResponder> StartAsync(TimeProvider? time = null, X509Certificate2? tlsCertificate = null)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, 0, listen =>
            {
                if (tlsCertificate is not null)
                {
                    listen.UseHttps(tlsCertificate);
                }
            });
            kestrel.Limits.MaxRequestBodySize = MaxRequestBody;
        });
        WebApplication app = builder.Build();
        TestOcspResponder? responder = null;
        app.Run(context => responder!.HandleAsync(context));
        await app.StartAsync().ConfigureAwait(false);
        string address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        var bound = new Uri(address);
        Uri url = tlsCertificate is null ? new Uri(address.TrimEnd('/') + BasePath) : new Uri($"https://localhost:{bound.Port}{BasePath}");
        responder = new TestOcspResponder(app, url, time ?? TimeProvider.System);
        return responder;
    }

    /// <summary>Answers for certificates of <paramref name="issuer"/>, signing with <paramref name="signer"/> (default: the issuer).</summary>
    public void AddIssuer(X509Certificate2 issuer, X509Certificate2? signer = null)
    {
        lock (_issuers)
        {
            _issuers.RemoveAll(i => i.Issuer.RawData.AsSpan().SequenceEqual(issuer.RawData));
            _issuers.Add((issuer, signer ?? issuer));
        }
    }

    public void Revoke(X509Certificate2 certificate, DateTimeOffset time, OcspRevocationReason? reason = null) =>
        _revoked[Convert.ToHexString(certificate.SerialNumberBytes.Span)] = (time, reason);

    /// <summary>Completes once <see cref="RequestCount"/> reaches <paramref name="count"/>: a signal, not a poll.</summary>
    public Task WhenRequestCountAsync(int count = 1) => Wait(_requestWaiters, count, () => RequestCount);

    public void ClearReceivedCertificateIds() => _received.Clear();

    /// <summary>Completes once <see cref="ReceivedCertificateIds"/> holds <paramref name="count"/> CertIDs (a request is counted before its body is read).</summary>
    public Task WhenReceivedAsync(int count = 1) => Wait(_receivedWaiters, count, () => _received.Count);

    public void ResetCount() => Interlocked.Exchange(ref _requestCount, 0);

    /// <summary>Back to a correct responder: no fault, no revocations, count zero, default validity.</summary>
    public void Reset(TimeProvider time)
    {
        RetryAfter = null;
        RedirectLocation = null;
        Fault = ResponderFault.None;
        IssuedSerials = null;
        FaultFor = null;
        RequireVia = false;
        Interlocked.Exchange(ref _directRequests, 0);
        Time = time;
        Validity = TimeSpan.FromDays(4);
        _revoked.Clear();
        _received.Clear();
        ResetCount();
    }

    /// <summary>Lets requests parked by <see cref="ResponderFault.Slow"/> complete.</summary>
    public void ReleaseSlowRequests() => Interlocked.Exchange(ref _slowRelease, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    public async ValueTask DisposeAsync()
    {
        ReleaseSlowRequests();
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    private static Task Wait(List<(int Count, TaskCompletionSource Waiter)> waiters, int count, Func<int> current)
    {
        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (waiters)
        {
            waiters.Add((count, waiter));
        }

        Signal(waiters, current());
        return waiter.Task;
    }

    /// <summary>Completes the waiters whose count <paramref name="current"/> has reached.</summary>
    private static void Signal(List<(int Count, TaskCompletionSource Waiter)> waiters, int current)
    {
        lock (waiters)
        {
            foreach ((int count, TaskCompletionSource waiter) in waiters.Where(w => current >= w.Count).ToArray())
            {
                waiter.TrySetResult();
                waiters.Remove((count, waiter));
            }
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        // Taken before the request is counted, so a release that follows a count observed by the test always applies.
        Task slowRelease = Volatile.Read(ref _slowRelease).Task;
        if (RequireVia && !context.Request.Headers.ContainsKey("Via"))
        {
            Interlocked.Increment(ref _directRequests);
            context.Abort();
            return;
        }

        Interlocked.Increment(ref _requestCount);
        _methods.Enqueue(context.Request.Method);
        Signal(_requestWaiters, RequestCount);
        ResponderFault fault = Fault;
        switch (fault)
        {
            case ResponderFault.Down:
                context.Abort();
                return;
            case ResponderFault.Http500 when RetryAfter is { } retryAfter:
                context.Response.StatusCode = 503;
                context.Response.Headers.RetryAfter = ((long)retryAfter.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
                await context.Response.WriteAsync("Busy").ConfigureAwait(false);
                return;
            case ResponderFault.Http500:
                context.Response.StatusCode = 500;
                await context.Response.WriteAsync("Internal Server Error").ConfigureAwait(false);
                return;
            case ResponderFault.HtmlBody:
                context.Response.ContentType = "text/html";
                await context.Response.WriteAsync("<html><body><h1>Service temporarily unavailable</h1></body></html>").ConfigureAwait(false);
                return;
            case ResponderFault.Garbage:
                await WriteOcspAsync(context, RandomNumberGenerator.GetBytes(600)).ConfigureAwait(false);
                return;
            case ResponderFault.TryLater:
                await WriteOcspAsync(context, OcspResponseBuilder.BuildStatus(OcspResponseStatus.TryLater)).ConfigureAwait(false);
                return;
            case ResponderFault.Unauthorized:
                await WriteOcspAsync(context, OcspResponseBuilder.BuildStatus(OcspResponseStatus.Unauthorized)).ConfigureAwait(false);
                return;
            case ResponderFault.MalformedRequest:
                await WriteOcspAsync(context, OcspResponseBuilder.BuildStatus(OcspResponseStatus.MalformedRequest)).ConfigureAwait(false);
                return;
            case ResponderFault.Http400:
                context.Response.StatusCode = StatusCodes.Status400BadRequest;
                await context.Response.WriteAsync("Request too large").ConfigureAwait(false);
                return;
            case ResponderFault.Redirect when !context.Request.Path.StartsWithSegments(MovedPath):
                context.Response.StatusCode = StatusCodes.Status302Found;
                context.Response.Headers.Location = RedirectLocation?.Replace("{target}", context.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget, StringComparison.Ordinal);
                return;
            case ResponderFault.EndlessBody or ResponderFault.EndlessChunkedBody:
                await WriteEndlessAsync(context, fault == ResponderFault.EndlessBody).ConfigureAwait(false);
                return;
            case ResponderFault.GzipBomb:
                context.Response.Headers.ContentEncoding = "gzip";
                await WriteOcspAsync(context, GzipBombBody.Value).ConfigureAwait(false);
                return;
            case ResponderFault.Slow:
                try
                {
                    await slowRelease.WaitAsync(context.RequestAborted).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                break;
        }

        OcspRequest? request = await ReadRequestAsync(context).ConfigureAwait(false);
        if (request is null)
        {
            await WriteOcspAsync(context, OcspResponseBuilder.BuildStatus(OcspResponseStatus.MalformedRequest)).ConfigureAwait(false);
            return;
        }

        _received.Enqueue(request.CertificateIds[0]);
        Signal(_receivedWaiters, _received.Count);
        switch (FaultFor?.Invoke(request.CertificateIds[0]))
        {
            case ResponderFault.Http400:
                context.Response.StatusCode = StatusCodes.Status400BadRequest;
                await context.Response.WriteAsync("Request too large").ConfigureAwait(false);
                return;
            case ResponderFault.Unauthorized:
                await WriteOcspAsync(context, OcspResponseBuilder.BuildStatus(OcspResponseStatus.Unauthorized)).ConfigureAwait(false);
                return;
            case ResponderFault.MalformedRequest:
                await WriteOcspAsync(context, OcspResponseBuilder.BuildStatus(OcspResponseStatus.MalformedRequest)).ConfigureAwait(false);
                return;
        }

        if (fault == ResponderFault.Trickle)
        {
            await TrickleAsync(context, Answer(request, fault)).ConfigureAwait(false);
            return;
        }

        await WriteOcspAsync(context, Answer(request, fault)).ConfigureAwait(false);
    }

    private byte[] Answer(OcspRequest request, ResponderFault fault)
    {
        OcspCertificateId id = request.CertificateIds[0];
        (X509Certificate2 Issuer, X509Certificate2 Signer)? match = null;
        lock (_issuers)
        {
            foreach (var entry in _issuers)
            {
                if (IssuerKeyHash(entry.Issuer, id.HashAlgorithm).AsSpan().SequenceEqual(id.IssuerKeyHash.Span))
                {
                    match = entry;
                }
            }
        }

        if (match is null)
        {
            // RFC 5019 §2.2.3: a responder that knows nothing of the certificate answers unauthorized.
            return OcspResponseBuilder.BuildStatus(OcspResponseStatus.Unauthorized);
        }

        DateTimeOffset now = Time.GetUtcNow();
        var builder = new OcspResponseBuilder(id, match.Value.Signer, now)
        {
            IssuerForSignerCheck = match.Value.Issuer,
            ResponderIdByKey = ResponderIdByKey,
            Nonce = request.HasNonce ? request.Nonce.ToArray() : null,
        };
        builder.NextUpdate = builder.ThisUpdate + Validity;
        if (IssuedSerials is { } issued && !issued.Contains(id.SerialNumberHex))
        {
            builder.Status = OcspCertificateStatus.Unknown;
        }
        else if (_revoked.TryGetValue(id.SerialNumberHex, out var revocation))
        {
            builder.Status = OcspCertificateStatus.Revoked;
            builder.RevocationTime = revocation.Time;
            builder.RevocationReason = revocation.Reason;
        }

        switch (fault)
        {
            case ResponderFault.WrongSerial:
                byte[] serial = id.SerialNumber.ToArray();
                serial[^1] ^= 0x01;
                builder.CertificateId = new OcspCertificateId(id.HashAlgorithm, id.IssuerNameHash.Span, id.IssuerKeyHash.Span, serial);
                break;
            case ResponderFault.WrongSigner:
                builder.Signer = ForeignSigner ??= CreateForeignSigner(now);
                builder.IncludeSignerCertificate = true;
                break;
            case ResponderFault.Unknown:
                builder.Status = OcspCertificateStatus.Unknown;
                break;
            case ResponderFault.Expired:
                builder.ThisUpdate = builder.ThisUpdate - (2 * Validity);
                builder.NextUpdate = builder.ThisUpdate + Validity;
                break;
        }

        byte[] response = builder.Build();
        if (fault == ResponderFault.BadSignature)
        {
            response[^1] ^= 0x01; // the last byte of the signature BIT STRING (no certificates follow when the issuer signs)
        }

        return response;
    }

    private static byte[] IssuerKeyHash(X509Certificate2 issuer, OcspHashAlgorithm algorithm) =>
        Ocsp.Stapling.Internal.HashAlgorithms.Hash(algorithm, issuer.PublicKey.EncodedKeyValue.RawData);

    private static X509Certificate2 CreateForeignSigner(DateTimeOffset now)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=Impostor OCSP Responder", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(TestPki.OcspSigningOid)], false));
        return request.CreateSelfSigned(now.AddDays(-1), now.AddYears(1));
    }

    private static async Task<OcspRequest?> ReadRequestAsync(HttpContext context)
    {
        try
        {
            byte[] der;
            if (HttpMethods.IsPost(context.Request.Method))
            {
                using var buffer = new MemoryStream();
                await context.Request.Body.CopyToAsync(buffer, context.RequestAborted).ConfigureAwait(false);
                der = buffer.ToArray();
            }
            else if (HttpMethods.IsGet(context.Request.Method))
            {
                // Kestrel decodes %2F in Path; the raw target keeps the request as the client sent it.
                string raw = context.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget;
                int start = raw.IndexOf(BasePath, StringComparison.Ordinal);
                der = OcspHttpEncoding.DecodeGetRequest(start < 0 ? raw : raw[(start + BasePath.Length)..]);
            }
            else
            {
                return null;
            }

            return OcspRequest.Decode(der);
        }
        catch (OcspFormatException)
        {
            return null;
        }
        catch (BadHttpRequestException)
        {
            return null;
        }
    }

    private async Task WriteEndlessAsync(HttpContext context, bool announceLength)
    {
        context.Response.ContentType = OcspHttpEncoding.ResponseMediaType;
        if (announceLength)
        {
            context.Response.ContentLength = 1L << 30;
        }

        byte[] chunk = new byte[16 * 1024];
        try
        {
            while (!context.RequestAborted.IsCancellationRequested)
            {
                await context.Response.Body.WriteAsync(chunk, context.RequestAborted).ConfigureAwait(false);
                await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
                Interlocked.Add(ref _endlessBytesSent, chunk.Length);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ConnectionResetException)
        {
            // The client gave up: the point of the fault.
        }
    }

    private static async Task TrickleAsync(HttpContext context, byte[] body)
    {
        context.Response.ContentType = OcspHttpEncoding.ResponseMediaType;
        context.Response.ContentLength = body.Length;
        try
        {
            for (int i = 0; i < body.Length; i++)
            {
                await context.Response.Body.WriteAsync(body.AsMemory(i, 1), context.RequestAborted).ConfigureAwait(false);
                await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
                await Task.Delay(TimeSpan.FromSeconds(1), context.RequestAborted).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ConnectionResetException)
        {
            // The client gave up.
        }
    }

    private static byte[] CreateGzipBomb()
    {
        using var output = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(output, System.IO.Compression.CompressionLevel.SmallestSize, leaveOpen: true))
        {
            byte[] zeros = new byte[1024 * 1024];
            for (int i = 0; i < 32; i++)
            {
                gzip.Write(zeros);
            }
        }

        return output.ToArray();
    }

    private static async Task WriteOcspAsync(HttpContext context, byte[] body)
    {
        context.Response.ContentType = OcspHttpEncoding.ResponseMediaType;
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body).ConfigureAwait(false);
    }
}
