using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace Ocsp.Stapling.Internal;

/// <summary>
/// Checks one responder's answer (the validation step, separate from fetching): a success carries the validated staple;
/// a rejection is retried and the next responder URL tried, like a transport failure.
/// </summary>
/// <param name="body">The body of an HTTP 200 answer, at most one byte over <see cref="OcspValidationOptions.MaxResponseSize"/>.</param>
/// <param name="request">The request it answers (its nonce).</param>
/// <param name="responder">The responder that sent it.</param>
internal delegate FetchOutcome ResponseCheck(byte[] body, OcspRequest request, Uri responder);

/// <summary>
/// Fetches one response over HTTP: every responder URL in order (the last one that worked first), each through a Polly
/// pipeline of its host (retry with back-off honouring Retry-After, circuit breaker, per-attempt timeout), all inside
/// the total timeout. What it receives goes through the caller's <see cref="ResponseCheck"/>; only what passes leaves it.
/// </summary>
internal sealed class OcspFetcher
{
    private const int RequestNonceLength = 32; // RFC 9654 §2.1, as OcspRequestOptions.NonceLength

    private readonly IHttpClientFactory _httpClientFactory;
    private readonly TimeProvider _time;
    private readonly OcspFetchOptions _options;
    private readonly int _maxResponseSize;
    private readonly ResponderHostLimits _limits;
    private readonly ConcurrentDictionary<string, ResiliencePipeline<FetchOutcome>> _pipelines = new(StringComparer.OrdinalIgnoreCase);

    public OcspFetcher(IHttpClientFactory httpClientFactory, TimeProvider time, OcspFetchOptions options, OcspValidationOptions validation)
    {
        _httpClientFactory = httpClientFactory;
        _time = time;
        _options = options;
        _maxResponseSize = validation.MaxResponseSize;
        _limits = new ResponderHostLimits(time, options);
    }

    /// <summary>Fetches a response for <paramref name="target"/> that passes <paramref name="check"/>, or says why there is none. Never throws but for cancellation.</summary>
    public async Task<FetchOutcome> FetchAsync(IFetchTarget target, ResponseCheck check, CancellationToken cancellationToken)
    {
        if (target.ResponderDisabled)
        {
            return FetchOutcome.Fail(OcspFailureReason.Disabled, "OCSP fetching is disabled for this certificate by a responder override.", FailureScope.Request);
        }

        IReadOnlyList<Uri> responders = target.ResponderUris;
        if (responders.Count == 0)
        {
            return FetchOutcome.Fail(OcspFailureReason.NoResponder, "The certificate has no HTTP OCSP URL in its AIA extension and no override.", FailureScope.Request);
        }

        OcspRequest request = OcspRequest.Create(
            target.Subject.Id(target.RequestHashAlgorithm ?? _options.HashAlgorithm),
            _options.IncludeNonce ? RandomNumberGenerator.GetBytes(RequestNonceLength) : []);
        return await FetchFromAsync(
            responders,
            target.PreferredResponder,
            (responder, token) => AttemptAsync(responder, request, check, token),
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Fetches a CRL from <paramref name="urls"/> (in order) as an OCSP response is fetched: the same HTTP client (outbound
    /// proxy), per-host limits, retries, circuit breaker and time-outs, redirects only within the origin; a body over
    /// <paramref name="maxSize"/> is refused unread. What arrives goes through <paramref name="check"/> (parse and
    /// validate). Never throws but for cancellation.
    /// </summary>
    public Task<FetchOutcome> FetchCrlAsync(IReadOnlyList<Uri> urls, int maxSize, Func<byte[], Uri, FetchOutcome> check, CancellationToken cancellationToken) =>
        FetchFromAsync(
            urls,
            0,
            (url, token) => SendAsync(url, url, HttpMethod.Get, ReadOnlyMemory<byte>.Empty, maxSize, body => check(body, url), token),
            cancellationToken);

    private async Task<FetchOutcome> FetchFromAsync(
        IReadOnlyList<Uri> responders, int preferred, Func<Uri, CancellationToken, ValueTask<FetchOutcome>> attempt, CancellationToken cancellationToken)
    {
        // The first responder's turn (its host's concurrency and rate limits) is waited for before the total timeout
        // starts: waiting for one's turn is not a responder failure.
        IDisposable? lease = await _limits.AcquireAsync(responders[preferred % responders.Count], cancellationToken).ConfigureAwait(false);
        using var total = new CancellationTokenSource(_options.TotalTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, total.Token);
        FetchOutcome? last = null;
        for (int i = 0; i < responders.Count; i++)
        {
            int index = (preferred + i) % responders.Count;
            Uri responder = responders[index];
            ResilienceContext? context = null;
            try
            {
                lease ??= await _limits.AcquireAsync(responder, linked.Token).ConfigureAwait(false);
                context = ResilienceContextPool.Shared.Get(linked.Token);
                FetchOutcome outcome = await Pipeline(responder).ExecuteAsync(
                    static (context, state) => state.Attempt(state.Responder, context.CancellationToken),
                    context,
                    (Attempt: attempt, Responder: responder)).ConfigureAwait(false);
                if (outcome.IsSuccess)
                {
                    return outcome.From(responder, index);
                }

                last = outcome.From(responder, index);
            }
            catch (BrokenCircuitException ex)
            {
                last = FetchOutcome.Fail(OcspFailureReason.CircuitOpen, $"Responder {responder.Authority} is failing; its circuit is open ({ex.Message}).").From(responder, index);
            }
            catch (Exception ex) when (ex is TimeoutRejectedException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                string through = OutboundProxy.For(responder, _options.Proxy) is { } proxy ? $" through the outbound proxy {OutboundProxy.Describe(proxy)}" : "";
                last = FetchOutcome.Fail(
                    OcspFailureReason.Timeout, $"No valid answer from {responder}{through} within {_options.TotalTimeout} (total) / {_options.AttemptTimeout} (per attempt).").From(responder, index);
                if (total.IsCancellationRequested)
                {
                    break;
                }
            }
            finally
            {
                if (context is not null)
                {
                    ResilienceContextPool.Shared.Return(context);
                }

                lease?.Dispose();
                lease = null;
            }
        }

        return last!;
    }

    private ValueTask<FetchOutcome> AttemptAsync(Uri responder, OcspRequest request, ResponseCheck check, CancellationToken cancellationToken)
    {
        bool get = OcspHttpEncoding.ShouldUseGet(request.Encoded.Span);
        return SendAsync(
            responder,
            get ? OcspHttpEncoding.GetRequestUri(responder, request.Encoded.Span) : responder,
            get ? HttpMethod.Get : HttpMethod.Post,
            get ? ReadOnlyMemory<byte>.Empty : request.Encoded,
            _maxResponseSize,
            body => check(body, request, responder),
            cancellationToken);
    }

    /// <summary>One exchange with <paramref name="responder"/> (a responder or a CRL's server): the body of a 200 answer, at most one byte over <paramref name="limit"/>, through <paramref name="check"/>.</summary>
    private async ValueTask<FetchOutcome> SendAsync(
        Uri responder, Uri target, HttpMethod method, ReadOnlyMemory<byte> content, int limit, Func<byte[], FetchOutcome> check, CancellationToken cancellationToken)
    {
        HttpClient client = _httpClientFactory.CreateClient(OcspFetchOptions.HttpClientName);
        Func<Uri, bool> mayFollow = _options.Redirects == OcspRedirectPolicy.SameOrigin
            ? target => OcspRedirects.SameOrigin(responder, target)
            : static _ => false;
        string policy = _options.Redirects == OcspRedirectPolicy.SameOrigin ? "the responder's own origin" : "none (OcspFetchOptions.Redirects = None)";
        try
        {
            (HttpResponseMessage? sent, string? refusal) = await OcspRedirects.SendAsync(
                client, method, target, content, mayFollow, policy, cancellationToken).ConfigureAwait(false);
            if (sent is null)
            {
                return FetchOutcome.Fail(OcspFailureReason.Redirect, refusal!, FailureScope.Request);
            }

            using HttpResponseMessage response = sent;
            if (OutboundProxy.For(responder, _options.Proxy) is { } proxy && ProxyRefusal(response.StatusCode, responder, proxy) is { } refused)
            {
                // Credentials refused: asking again changes nothing (and may lock the account); a proxy with no answer from the responder may pass.
                FailureScope scope = response.StatusCode is HttpStatusCode.ProxyAuthenticationRequired or HttpStatusCode.Unauthorized ? FailureScope.Request : FailureScope.Responder;
                return FetchOutcome.Fail(OcspFailureReason.ProxyFailed, refused, scope);
            }

            if (response.StatusCode != HttpStatusCode.OK)
            {
                return FetchOutcome.Fail(
                    OcspFailureReason.HttpStatus,
                    $"{responder} answered HTTP {(int)response.StatusCode} {LogText.Quote(response.ReasonPhrase)}.",
                    FetchOutcome.ScopeOf(response.StatusCode),
                    RetryAfter(response));
            }

            if (response.Content.Headers.ContentLength > limit)
            {
                return FetchOutcome.TooLarge($"{responder} announced {response.Content.Headers.ContentLength} bytes, over the {limit}-byte limit.");
            }

            using Stream stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            byte[]? body = await OcspHttpEncoding.ReadBodyAsync(stream, limit, cancellationToken).ConfigureAwait(false);

            // Over the cap: one byte more than allowed is enough for the validator to reject it as too large.
            return check(body ?? new byte[limit + 1]);
        }
        catch (HttpRequestException ex) when (OutboundProxy.For(responder, _options.Proxy) is { } proxy
            && ex.HttpRequestError is HttpRequestError.ProxyTunnelError or HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError)
        {
            string what = ex.HttpRequestError == HttpRequestError.ProxyTunnelError ? $"refused the CONNECT tunnel to {responder.Authority}" : "cannot be reached";
            return FetchOutcome.Fail(OcspFailureReason.ProxyFailed, $"The outbound proxy {OutboundProxy.Describe(proxy)} {what}: {OutboundProxy.Scrub(ex.Message)}");
        }
        catch (HttpRequestException ex)
        {
            return FetchOutcome.Fail(OcspFailureReason.ConnectionFailed, $"{responder}: {OutboundProxy.Scrub(ex.Message)}");
        }
        catch (IOException ex)
        {
            // The connection broke while the body was read (reset, truncated chunking).
            return FetchOutcome.Fail(OcspFailureReason.ConnectionFailed, $"{responder}: the answer broke off ({LogText.Quote(ex.Message)}).");
        }
    }

    /// <summary>
    /// What a proxy's own answer says, or <see langword="null"/> for the responder's: 407 (credentials missing or refused),
    /// 401 when credentials were given (tinyproxy's answer to wrong ones; a responder never asks for them), 502 and 504
    /// (the proxy got no answer from the responder).
    /// </summary>
    private string? ProxyRefusal(HttpStatusCode status, Uri responder, Uri proxy)
    {
        bool credentials = proxy.UserInfo.Length > 0 || _options.Proxy.Address?.UserInfo.Length > 0;
        string name = OutboundProxy.Describe(proxy);
        return status switch
        {
            HttpStatusCode.ProxyAuthenticationRequired =>
                $"The outbound proxy {name} refused the request: 407 Proxy Authentication Required ({(credentials ? "the credentials given were not accepted" : "no credentials were given")}).",
            HttpStatusCode.Unauthorized when credentials => $"The outbound proxy {name} refused the request: 401 Unauthorized (the credentials given were not accepted).",
            HttpStatusCode.BadGateway or HttpStatusCode.GatewayTimeout => $"The outbound proxy {name} could not get an answer from {responder}: HTTP {(int)status}.",
            _ => null,
        };
    }

    private TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        if (response.Headers.RetryAfter is not { } header)
        {
            return null;
        }

        TimeSpan? delay = header.Delta ?? (header.Date is { } date ? date - _time.GetUtcNow() : null);
        return delay < TimeSpan.Zero ? TimeSpan.Zero : delay;
    }

    /// <summary>
    /// The pipeline of a responder host: retries of what may pass (a Retry-After within <see cref="OcspRetryOptions.MaxRetryAfter"/>),
    /// then a circuit breaker that counts only what says the responder is failing (<see cref="FetchOutcome.CountsAgainstResponder"/>),
    /// with a break that starts short and doubles while the half-open probes fail, up to
    /// <see cref="OcspCircuitBreakerOptions.MaxBreakDuration"/>: after an outage, the first request once the responder is back
    /// waits at most the break of the moment.
    /// </summary>
    private ResiliencePipeline<FetchOutcome> Pipeline(Uri responder) => _pipelines.GetOrAdd(responder.Authority, _ =>
    {
        OcspFetchOptions fetch = _options;
        TimeSpan maxRetryAfter = fetch.Retry.MaxRetryAfter;
        var builder = new ResiliencePipelineBuilder<FetchOutcome> { TimeProvider = _time };
        if (fetch.Retry.MaxAttempts > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<FetchOutcome>
            {
                ShouldHandle = new PredicateBuilder<FetchOutcome>()
                    .HandleResult(outcome => outcome.Retryable && !(outcome.RetryAfter > maxRetryAfter))
                    .Handle<TimeoutRejectedException>()
                    .Handle<HttpRequestException>(),
                MaxRetryAttempts = fetch.Retry.MaxAttempts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = fetch.Retry.Delay,
                DelayGenerator = static args => new ValueTask<TimeSpan?>(args.Outcome.Result?.RetryAfter),
            });
        }

        OcspCircuitBreakerOptions breaker = fetch.CircuitBreaker;
        return builder
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions<FetchOutcome>
            {
                ShouldHandle = new PredicateBuilder<FetchOutcome>()
                    .HandleResult(outcome => outcome.CountsAgainstResponder)
                    .Handle<TimeoutRejectedException>()
                    .Handle<HttpRequestException>(),
                FailureRatio = breaker.FailureRatio,
                MinimumThroughput = breaker.MinimumThroughput,
                SamplingDuration = breaker.SamplingDuration,
                BreakDuration = breaker.BreakDuration,
                BreakDurationGenerator = args => new ValueTask<TimeSpan>(BreakDuration(breaker, args.HalfOpenAttempts)),
            })
            .AddTimeout(fetch.AttemptTimeout)
            .Build();
    });

    /// <summary>The break after <paramref name="failedProbes"/> failed half-open probes in a row: <see cref="OcspCircuitBreakerOptions.BreakDuration"/>, doubled for each, at most <see cref="OcspCircuitBreakerOptions.MaxBreakDuration"/>.</summary>
    internal static TimeSpan BreakDuration(OcspCircuitBreakerOptions options, int failedProbes)
    {
        TimeSpan max = options.MaxBreakDuration > options.BreakDuration ? options.MaxBreakDuration : options.BreakDuration;
        double factor = Math.Pow(2, Math.Clamp(failedProbes, 0, 30));
        return options.BreakDuration.Ticks * factor >= max.Ticks ? max : TimeSpan.FromTicks((long)(options.BreakDuration.Ticks * factor));
    }
}
