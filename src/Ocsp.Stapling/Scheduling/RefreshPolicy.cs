namespace Ocsp.Stapling.Internal;

/// <summary>When to refresh: at a fraction of the validity window or under a minimum remaining validity, with jitter; exponential back-off on failure.</summary>
internal static class RefreshPolicy
{
    /// <summary>The next refresh for a fresh staple; <paramref name="now"/> when it is already due.</summary>
    public static DateTimeOffset NextRefresh(OcspStaple staple, DateTimeOffset now, OcspRefreshOptions options, Random random)
    {
        TimeSpan validity = staple.NextUpdate - staple.ThisUpdate;
        DateTimeOffset atFraction = staple.ThisUpdate + (validity * options.AtFraction);
        DateTimeOffset underMinimum = staple.NextUpdate - options.MinimumRemainingValidity;
        DateTimeOffset at = underMinimum < atFraction ? underMinimum : atFraction;

        // A window shorter than the minimum remaining validity: fall back to the fraction rule rather than refresh in a loop.
        if (at <= now)
        {
            at = atFraction;
        }

        if (at <= now)
        {
            return now;
        }

        // Earlier, never later: jitter must not push a refresh past the safe point.
        return at - ((at - now) * (options.Jitter * random.NextDouble()));
    }

    /// <summary>
    /// The next refresh for a staple just adopted from its responder: <see cref="NextRefresh"/>, or when that is already
    /// due (a response whose window has nearly run out), one back-off step later: an answer must never schedule a refresh
    /// loop.
    /// </summary>
    public static DateTimeOffset NextRefreshOrBackoff(OcspStaple staple, DateTimeOffset now, OcspRefreshOptions options, Random random)
    {
        DateTimeOffset next = NextRefresh(staple, now, options, random);
        return next > now ? next : now + Backoff(1, options, random);
    }

    /// <summary>A uniformly random point between <paramref name="now"/> and <paramref name="at"/>: start-up refreshes spread over their windows.</summary>
    public static DateTimeOffset Spread(DateTimeOffset at, DateTimeOffset now, Random random) =>
        at <= now ? at : now + ((at - now) * random.NextDouble());

    /// <summary>The delay before the next attempt after <paramref name="consecutiveFailures"/> failures (1, 2, …).</summary>
    public static TimeSpan Backoff(int consecutiveFailures, OcspRefreshOptions options, Random random)
    {
        double factor = Math.Pow(2, Math.Min(Math.Max(consecutiveFailures, 1) - 1, 30));
        TimeSpan delay = TimeSpan.FromTicks((long)Math.Min(options.FailureBackoffBase.Ticks * factor, options.FailureBackoffMax.Ticks));
        return delay * (1 - (options.Jitter * random.NextDouble()));
    }
}
