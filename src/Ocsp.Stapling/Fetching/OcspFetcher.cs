using System.Collections.Concurrent;
using System.Net;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace Ocsp.Stapling.Internal;

/// <summary>
/// Fetches and validates one response: every responder URL in order (the last one that worked first), each through a
/// Polly pipeline of its host (retry with back-off honouring Retry-After, circuit breaker, per-attempt timeout), all
/// inside the total timeout. Only validated responses leave it.
/// </summary>
internal sealed class OcspFetcher
{
    private readonly IHttpClientFactory _httpClientFactory;
    private readonly TimeProvider _time;
    private readonly OcspStaplingOptions _options;
    private readonly ConcurrentDictionary<string, ResiliencePipeline<FetchOutcome>> _pipelines = new(StringComparer.OrdinalIgnoreCase);

    public OcspFetcher(IHttpClientFactory httpClientFactory, TimeProvider time, OcspStaplingOptions options)
    {
        _httpClientFactory = httpClientFactory;
        _time = time;
        _options = options;
    }

    public async Task<FetchOutcome> FetchAsync(Registration registration, CancellationToken cancellationToken)
    {
        if (registration.ResponderDisabled)
        {
            return FetchOutcome.NoResponder("Disabled", "OCSP fetching is disabled for this certificate by a responder override.");
        }

        IReadOnlyList<Uri> responders = registration.ResponderUris;
        if (responders.Count == 0)
        {
            return FetchOutcome.NoResponder("NoResponder", "The certificate has no HTTP OCSP URL in its AIA extension and no override.");
        }

        OcspRequest request = OcspRequest.Create(
            registration.Certificate,
            registration.Issuer,
            new OcspRequestOptions { HashAlgorithm = _options.Fetch.HashAlgorithm, IncludeNonce = _options.Fetch.IncludeNonce });

        using var total = new CancellationTokenSource(_options.Fetch.TotalTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, total.Token);
        FetchOutcome? last = null;
        int preferred = registration.PreferredResponder;
        for (int i = 0; i < responders.Count; i++)
        {
            int index = (preferred + i) % responders.Count;
            Uri responder = responders[index];
            try
            {
                FetchOutcome outcome = await Pipeline(responder).ExecuteAsync(
                    static (context, state) => state.Fetcher.AttemptAsync(state.Responder, state.Request, state.Registration, context.CancellationToken),
                    ResilienceContextPool.Shared.Get(linked.Token),
                    (Fetcher: this, Responder: responder, Request: request, Registration: registration)).ConfigureAwait(false);
                if (outcome.IsSuccess)
                {
                    registration.PreferredResponder = index;
                    return outcome;
                }

                last = outcome;
            }
            catch (BrokenCircuitException ex)
            {
                last = FetchOutcome.Fail("CircuitOpen", $"Responder {responder.Authority} is failing; its circuit is open ({ex.Message}).");
            }
            catch (Exception ex) when (ex is TimeoutRejectedException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                last = FetchOutcome.Fail("Timeout", $"No valid answer from {responder} within {_options.Fetch.TotalTimeout} (total) / {_options.Fetch.AttemptTimeout} (per attempt).");
                if (total.IsCancellationRequested)
                {
                    break;
                }
            }
        }

        return last!;
    }

    private async ValueTask<FetchOutcome> AttemptAsync(Uri responder, OcspRequest request, Registration registration, CancellationToken cancellationToken)
    {
        using HttpRequestMessage message = OcspHttpEncoding.CreateHttpRequest(responder, request.Encoded);
        HttpClient client = _httpClientFactory.CreateClient(OcspFetchOptions.HttpClientName);
        try
        {
            using HttpResponseMessage response = await client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                TimeSpan? retryAfter = RetryAfter(response);
                bool retryable = retryAfter is null || retryAfter <= _options.Fetch.MaxRetryAfter;
                return FetchOutcome.Fail("HttpStatus", $"{responder} answered HTTP {(int)response.StatusCode} {response.ReasonPhrase}.", retryable, retryAfter);
            }

            int limit = _options.Validation.MaxResponseSize;
            if (response.Content.Headers.ContentLength > limit)
            {
                return FetchOutcome.TooLarge($"{responder} announced {response.Content.Headers.ContentLength} bytes, over the {limit}-byte limit.");
            }

            byte[] body = await ReadCappedAsync(response.Content, limit + 1, cancellationToken).ConfigureAwait(false);
            OcspValidationResult result = OcspResponseValidator.Validate(
                body, registration.Certificate, registration.Issuer, _time.GetUtcNow(), _options.Validation, request.Nonce);
            if (!result.IsValid)
            {
                return FetchOutcome.Rejected(result);
            }

            if (result.Staple.Status == OcspCertificateStatus.Unknown)
            {
                return FetchOutcome.Fail("CertificateUnknown", $"{responder} does not know this certificate (status unknown).", retryable: false);
            }

            return FetchOutcome.Success(result.Staple);
        }
        catch (HttpRequestException ex)
        {
            return FetchOutcome.Fail("ConnectionFailed", $"{responder}: {ex.Message}");
        }
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

    private static async Task<byte[]> ReadCappedAsync(HttpContent content, int cap, CancellationToken cancellationToken)
    {
        using Stream stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        using var buffer = new MemoryStream();
        byte[] chunk = new byte[8192];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            // Stop reading once over the cap: the validator rejects it as too large without us buffering a hostile body.
            buffer.Write(chunk, 0, Math.Min(read, cap - (int)buffer.Length));
            if (buffer.Length >= cap)
            {
                break;
            }
        }

        return buffer.ToArray();
    }

    private ResiliencePipeline<FetchOutcome> Pipeline(Uri responder) => _pipelines.GetOrAdd(responder.Authority, _ =>
    {
        OcspFetchOptions fetch = _options.Fetch;
        var shouldHandle = new PredicateBuilder<FetchOutcome>()
            .HandleResult(outcome => !outcome.IsSuccess && outcome.Retryable)
            .Handle<TimeoutRejectedException>()
            .Handle<HttpRequestException>();
        var builder = new ResiliencePipelineBuilder<FetchOutcome> { TimeProvider = _time };
        if (fetch.MaxRetryAttempts > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<FetchOutcome>
            {
                ShouldHandle = shouldHandle,
                MaxRetryAttempts = fetch.MaxRetryAttempts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = fetch.RetryDelay,
                DelayGenerator = static args => new ValueTask<TimeSpan?>(args.Outcome.Result?.RetryAfter),
            });
        }

        return builder
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions<FetchOutcome>
            {
                ShouldHandle = shouldHandle,
                FailureRatio = fetch.CircuitBreakerFailureRatio,
                MinimumThroughput = fetch.CircuitBreakerMinimumThroughput,
                SamplingDuration = fetch.CircuitBreakerSamplingDuration,
                BreakDuration = fetch.CircuitBreakerBreakDuration,
            })
            .AddTimeout(fetch.AttemptTimeout)
            .Build();
    });
}
