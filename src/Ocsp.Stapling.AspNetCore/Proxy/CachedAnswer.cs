using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;

namespace Ocsp.Stapling.AspNetCore.Internal;

/// <summary>
/// What the proxy sends with a response from its store, made once per validated response instead of once per request:
/// the RFC 9919 §6.2 headers (<c>ETag</c> the SHA-256 of the response in hex, <c>Last-Modified</c> thisUpdate,
/// <c>Expires</c> nextUpdate) and the <c>Cache-Control</c> value of the current second. Kept beside the response (a weak
/// table): gone with it when a newer response replaces it.
/// </summary>
internal sealed class CachedAnswer
{
    private static readonly ConditionalWeakTable<OcspStaple, CachedAnswer> Answers = [];
    private readonly DateTimeOffset _nextUpdate;
    private CacheControlValue? _cacheControl;

    private CachedAnswer(OcspStaple staple)
    {
        ETag = "\"" + Convert.ToHexStringLower(SHA256.HashData(staple.Encoded.Span)) + "\"";
        LastModified = staple.ThisUpdate.ToString("R", CultureInfo.InvariantCulture);
        Expires = staple.NextUpdate.ToString("R", CultureInfo.InvariantCulture);
        _nextUpdate = staple.NextUpdate;
    }

    public string ETag { get; }

    public string LastModified { get; }

    public string Expires { get; }

    public static CachedAnswer For(OcspStaple staple) => Answers.GetValue(staple, static s => new CachedAnswer(s));

    /// <summary>
    /// <c>max-age=…, public, no-transform, must-revalidate</c>, <c>max-age</c> never past nextUpdate and at most
    /// <paramref name="maxCacheAge"/>; made once per second.
    /// </summary>
    public string CacheControl(DateTimeOffset now, TimeSpan maxCacheAge)
    {
        long second = now.UtcTicks / TimeSpan.TicksPerSecond;
        CacheControlValue? current = Volatile.Read(ref _cacheControl);
        if (current is not null && current.Second == second && current.MaxCacheAge == maxCacheAge)
        {
            return current.Value;
        }

        string value = Format(_nextUpdate, now, maxCacheAge);
        Volatile.Write(ref _cacheControl, new CacheControlValue(second, maxCacheAge, value));
        return value;
    }

    /// <summary>The <c>Cache-Control</c> of an authoritative answer cached downstream until <paramref name="until"/>.</summary>
    public static string Format(DateTimeOffset until, DateTimeOffset now, TimeSpan maxCacheAge)
    {
        TimeSpan maxAge = until - now;
        maxAge = maxAge > maxCacheAge ? maxCacheAge : maxAge < TimeSpan.Zero ? TimeSpan.Zero : maxAge;
        return $"max-age={(long)Math.Floor(maxAge.TotalSeconds)}, public, no-transform, must-revalidate";
    }

    private sealed record CacheControlValue(long Second, TimeSpan MaxCacheAge, string Value);
}
