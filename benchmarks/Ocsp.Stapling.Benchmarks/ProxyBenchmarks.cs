using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Ocsp.Stapling.AspNetCore;
using Ocsp.Stapling.AspNetCore.Internal;
using Ocsp.Stapling.Internal;

namespace Ocsp.Stapling.Benchmarks;

/// <summary>
/// The proxy's state for the proxy benchmarks: a provider holding a validated response for a listed certificate and
/// for a CertID of a known CA (the <c>serve --ca</c> hit), the requests for them (GET path, POST body), and a baseline
/// that answers the same bytes with the same headers from a dictionary.
/// </summary>
public abstract class ProxySetup
{
    private protected const string ResponderHost = "127.0.0.1:9";
    private static readonly Uri Responder = new("http://127.0.0.1:9/ocsp");

    private protected ServiceProvider Services { get; private set; } = null!;

    private protected OcspProxy Proxy { get; private set; } = null!;

    private protected string ListedGet { get; private set; } = null!;

    private protected string CaGet { get; private set; } = null!;

    private protected byte[] CaPost { get; private set; } = null!;

    private protected Dictionary<string, (byte[] Body, string CacheControl, string ETag, string LastModified, string Expires)> Baseline { get; } = new(StringComparer.Ordinal);

    protected void BuildProxy()
    {
        var pki = new BenchmarkPki(TimeProvider.System.GetUtcNow());
        X509Certificate2[] leaves = pki.IssueLeaves(2, Responder);
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddOcspStapling().UseMemoryOnly();
        Services = services.BuildServiceProvider();
        OcspResponseProvider provider = Services.GetRequiredService<OcspResponseProvider>();

        // A listed certificate, its response held.
        provider.Register(leaves[0], pki.Issuer);
        RegistrationStore store = Services.GetRequiredService<RegistrationStore>();
        OcspStaple listed = pki.Staple(leaves[0]);
        store.Adopt(store.Find(leaves[0])!, listed, OcspStapleSource.Responder);

        // A certificate of a known CA, cached by CertID as a first request leaves it.
        OcspStaple cached = pki.Staple(leaves[1]);
        var id = OcspCertificateId.Create(leaves[1], pki.Issuer);
        provider.RegisterAnsweredAsync(id, pki.Issuer, [Responder], new OcspRefreshResult(cached, true, OcspStapleSource.Responder, null)).GetAwaiter().GetResult();

        var options = new OcspProxyOptions();
        options.AllowedResponders.Add(Responder);
        options.CertificateAuthorities.Add(new OcspProxyCertificateAuthority(pki.Issuer));
        Proxy = new OcspProxy(provider, Services.GetRequiredService<IHttpClientFactory>(), options, TimeProvider.System, NullLogger.Instance);

        ListedGet = "/" + OcspHttpEncoding.EncodeForGet(OcspRequest.Create(leaves[0], pki.Issuer).Encoded.Span);
        CaPost = OcspRequest.Create(leaves[1], pki.Issuer).Encoded.ToArray();
        CaGet = "/" + OcspHttpEncoding.EncodeForGet(CaPost);
        foreach ((string path, OcspStaple staple) in new[] { (ListedGet, listed), (CaGet, cached) })
        {
            Baseline[path] = (staple.Encoded.ToArray(), "max-age=86400, public, no-transform, must-revalidate", "\"etag\"",
                staple.ThisUpdate.ToString("R", CultureInfo.InvariantCulture), staple.NextUpdate.ToString("R", CultureInfo.InvariantCulture));
        }
    }

    /// <summary>The baseline: the same bytes and headers from a dictionary, for the raw target.</summary>
    private protected Task BaselineAsync(HttpContext context)
    {
        string target = context.Features.Get<IHttpRequestFeature>()!.RawTarget;
        if (!Baseline.TryGetValue(target, out var answer))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }

        HttpResponse response = context.Response;
        response.Headers.CacheControl = answer.CacheControl;
        response.Headers.Expires = answer.Expires;
        response.Headers.LastModified = answer.LastModified;
        response.Headers.ETag = answer.ETag;
        response.ContentType = OcspHttpEncoding.ResponseMediaType;
        response.ContentLength = answer.Body.Length;
        return response.Body.WriteAsync(answer.Body).AsTask();
    }
}

/// <summary>
/// The proxy's hit path alone, per request, without sockets: <c>OcspProxy.HandleAsync</c> on a fresh
/// <see cref="DefaultHttpContext"/> for a cached GET (listed certificate, and a CertID of a known CA) and POST, against the
/// baseline handler that writes the same bytes and headers from a dictionary (Ratio 1.00). The difference in time and in
/// allocation is what the proxy's own work costs: decoding the request, finding the response, its headers.
/// </summary>
[MemoryDiagnoser]
public class ProxyHitBenchmarks : ProxySetup
{
    [GlobalSetup]
    public void Setup()
    {
        BuildProxy();
        if (Run(ListedGet).Response.ContentLength is not > 0 || Run(CaGet).Response.ContentLength is not > 0 || Run("/", CaPost).Response.ContentLength is not > 0)
        {
            throw new InvalidOperationException("Benchmark setup: the proxy did not answer from its store.");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        Proxy.Dispose();
        Services.Dispose();
    }

    [Benchmark(Baseline = true, Description = "Baseline: same bytes from a dictionary")]
    public Task BaselineGet()
    {
        DefaultHttpContext context = NewContext(CaGet, null);
        return BaselineAsync(context);
    }

    [Benchmark(Description = "Proxy GET, listed certificate")]
    public Task ListedCertificateGet() => Proxy.HandleAsync(NewContext(ListedGet, null));

    [Benchmark(Description = "Proxy GET, CertID of a known CA")]
    public Task CertificateAuthorityGet() => Proxy.HandleAsync(NewContext(CaGet, null));

    [Benchmark(Description = "Proxy POST, CertID of a known CA")]
    public Task CertificateAuthorityPost() => Proxy.HandleAsync(NewContext("/", CaPost));

    private static DefaultHttpContext NewContext(string target, byte[]? body)
    {
        var context = new DefaultHttpContext();
        HttpRequest request = context.Request;
        request.Method = body is null ? HttpMethods.Get : HttpMethods.Post;
        request.Path = target.Length > 1 ? new PathString("/x") : new PathString("/");
        context.Features.Get<IHttpRequestFeature>()!.RawTarget = target;
        request.Host = new HostString(ResponderHost);
        if (body is not null)
        {
            request.ContentType = OcspHttpEncoding.RequestMediaType;
            request.ContentLength = body.Length;
            request.Body = new MemoryStream(body, writable: false);
        }

        context.Response.Body = Stream.Null;
        return context;
    }

    private DefaultHttpContext Run(string target, byte[]? body = null)
    {
        DefaultHttpContext context = NewContext(target, body);
        Proxy.HandleAsync(context).GetAwaiter().GetResult();
        return context;
    }
}

/// <summary>
/// The proxy through Kestrel and a real loopback connection, per request (an <see cref="HttpClient"/> with keep-alive in
/// the same process): a cached GET and POST for a CertID of a known CA, against the baseline endpoint in the same Kestrel
/// that answers the same bytes from a dictionary (Ratio 1.00). Client and server share the machine's cores, as with wrk.
/// </summary>
[MemoryDiagnoser]
public class ProxyThroughputBenchmarks : ProxySetup
{
    private WebApplication _app = null!;
    private HttpClient _client = null!;

    [GlobalSetup]
    public void Setup()
    {
        BuildProxy();
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        _app = builder.Build();
        _app.MapGet("/baseline/{**rest}", context =>
        {
            context.Features.Get<IHttpRequestFeature>()!.RawTarget = context.Features.Get<IHttpRequestFeature>()!.RawTarget["/baseline".Length..];
            return BaselineAsync(context);
        });
        _app.MapMethods("/{**ocspRequest}", [HttpMethods.Get, HttpMethods.Post], Proxy.HandleAsync);
        _app.StartAsync().GetAwaiter().GetResult();
        string address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        _client = new HttpClient(new SocketsHttpHandler()) { BaseAddress = new Uri(address) };
        if (Get(CaGet).Length == 0 || Post().Length == 0 || Get("/baseline" + CaGet).Length == 0)
        {
            throw new InvalidOperationException("Benchmark setup: an endpoint did not answer.");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _client.Dispose();
        _app.StopAsync().GetAwaiter().GetResult();
        ((IDisposable)_app).Dispose();
        Proxy.Dispose();
        Services.Dispose();
    }

    [Benchmark(Baseline = true, Description = "Baseline GET: same bytes from a dictionary, same Kestrel")]
    public byte[] BaselineGet() => Get("/baseline" + CaGet);

    [Benchmark(Description = "Proxy GET, CertID of a known CA")]
    public byte[] ProxyGet() => Get(CaGet);

    [Benchmark(Description = "Proxy POST, CertID of a known CA")]
    public byte[] ProxyPost() => Post();

    private byte[] Get(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Host = ResponderHost;
        return Send(request);
    }

    private byte[] Post()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/") { Content = new ByteArrayContent(CaPost) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(OcspHttpEncoding.RequestMediaType);
        request.Headers.Host = ResponderHost;
        return Send(request);
    }

    private byte[] Send(HttpRequestMessage request)
    {
        using HttpResponseMessage response = _client.Send(request);
        return response.StatusCode == HttpStatusCode.OK && response.Headers.CacheControl?.MaxAge is not null
            ? response.Content.ReadAsByteArrayAsync().GetAwaiter().GetResult()
            : throw new InvalidOperationException($"{request.RequestUri}: HTTP {(int)response.StatusCode}, Cache-Control {response.Headers.CacheControl}.");
    }
}
