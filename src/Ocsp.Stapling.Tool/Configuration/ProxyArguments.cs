using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.Options;
using Ocsp.Stapling.AspNetCore;
using Ocsp.Stapling.AspNetCore.Internal;

namespace Ocsp.Stapling.Tool;

/// <summary>
/// <c>serve</c>'s options that are <see cref="OcspProxyOptions"/> settings: bound into the options and checked by the
/// library's own validator (ranges, cross-field rules), whose failures are said with the option's name. Only what the
/// command line adds is checked here: durations written as the tool writes them.
/// </summary>
internal sealed class ProxyArguments
{
    /// <summary>The option of each setting, as the validator names the setting.</summary>
    private static readonly (string Member, string Option)[] Names =
    [
        ("Cache.ForgetAfter", "--forget-after"),
        ("Cache.MaxCertificatesPerAuthority", "--max-cached-per-ca"),
        ("Cache.UnknownAnswerTime", "--unknown-cache-time"),
        ("Limits.MaxConcurrentForwardsPerResponder", "--max-concurrent-forwards"),
        ("Limits.MaxForwardsPerSecondPerResponder", "--max-forwards-per-second"),
        ("Limits.MaxConcurrentForwardsPerClient", "--max-concurrent-forwards-per-client"),
        ("Limits.MaxForwardsPerSecondPerClient", "--max-forwards-per-second-per-client"),
        ("CertificateAuthorities", "--ca"),
        ("AllowedResponders", "--allow-responder"),
        ("Backends", "--backend"),
    ];

    private static readonly System.Buffers.SearchValues<char> Identifier =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.");

    private readonly Option<string> _forgetAfter = new("--forget-after")
    {
        Description = "Forget a --ca certificate nobody asked for in this long: it is no longer refreshed; its stored response expires at its nextUpdate (e.g. 7d, 12h, 30m).",
        DefaultValueFactory = _ => "7d",
    };

    private readonly Option<int> _maxPerCa = new("--max-cached-per-ca")
    {
        Description = "Cache at most this many certificates of each --ca; each further one evicts the one asked for least recently.",
        DefaultValueFactory = _ => 10_000,
    };

    private readonly Option<string> _unknownFor = new("--unknown-cache-time")
    {
        Description = "Keep a responder's signed 'unknown' answer for a --ca serial (one it never issued) this long, never refreshed: asking again costs no upstream request (e.g. 10m, 0s to keep none).",
        DefaultValueFactory = _ => "10m",
    };

    private readonly Option<int> _concurrentForwards = new("--max-concurrent-forwards")
    {
        Description = "Requests for clients (forwards, and first requests for --ca certificates) under way at once to one responder; past it, clients get tryLater at once.",
        DefaultValueFactory = _ => 8,
    };

    private readonly Option<double> _forwardsPerSecond = new("--max-forwards-per-second")
    {
        Description = "Requests for clients (forwards, and first requests for --ca certificates) started per second to one responder; past it, clients get tryLater at once.",
        DefaultValueFactory = _ => 10,
    };

    private readonly Option<int> _concurrentPerClient = new("--max-concurrent-forwards-per-client")
    {
        Description = "Requests of one client (IPv4 address or IPv6 /64) that may reach a responder under way at once; past it, that client gets tryLater at once "
            + "(answers the proxy holds are never limited).",
        DefaultValueFactory = _ => 4,
    };

    private readonly Option<double> _perSecondPerClient = new("--max-forwards-per-second-per-client")
    {
        Description = "Requests of one client that may ask a responder per second; past it, that client gets tryLater at once.",
        DefaultValueFactory = _ => 5d,
    };

    public static ProxyArguments Create() => new();

    public void AddCacheOptionsTo(Command command)
    {
        command.Options.Add(_forgetAfter);
        command.Options.Add(_maxPerCa);
        command.Options.Add(_unknownFor);
    }

    public void AddLimitOptionsTo(Command command)
    {
        command.Options.Add(_concurrentForwards);
        command.Options.Add(_forwardsPerSecond);
        command.Options.Add(_concurrentPerClient);
        command.Options.Add(_perSecondPerClient);
    }

    /// <summary>Sets the options' cache and limit settings from the command line (a duration that does not parse is a usage error here; ranges are the validator's).</summary>
    public Action<OcspProxyOptions> Parse(ParseResult result)
    {
        TimeSpan forgetAfter = Duration(result, _forgetAfter);
        TimeSpan unknownFor = Duration(result, _unknownFor);
        int maxPerCa = result.GetValue(_maxPerCa);
        int concurrent = result.GetValue(_concurrentForwards);
        double perSecond = result.GetValue(_forwardsPerSecond);
        int concurrentPerClient = result.GetValue(_concurrentPerClient);
        double perSecondPerClient = result.GetValue(_perSecondPerClient);
        return options =>
        {
            options.Cache.ForgetAfter = forgetAfter;
            options.Cache.UnknownAnswerTime = unknownFor;
            options.Cache.MaxCertificatesPerAuthority = maxPerCa;
            options.Limits.MaxConcurrentForwardsPerResponder = concurrent;
            options.Limits.MaxForwardsPerSecondPerResponder = perSecond;
            options.Limits.MaxConcurrentForwardsPerClient = concurrentPerClient;
            options.Limits.MaxForwardsPerSecondPerClient = perSecondPerClient;
        };
    }

    /// <summary>Runs the library's validator over <paramref name="options"/>: a usage error (exit 64) naming each option that failed and why.</summary>
    public static void Check(OcspProxyOptions options)
    {
        ValidateOptionsResult checkedOptions = new OcspProxyOptionsValidator().Validate(Microsoft.Extensions.Options.Options.DefaultName, options);
        if (checkedOptions.Failed)
        {
            throw new ToolException(ExitCodes.Usage, string.Join(Environment.NewLine, checkedOptions.Failures.Select(Say)));
        }
    }

    /// <summary>The forward limits, as the start-up line says them.</summary>
    public static string Describe(OcspProxyOptions options) => string.Create(
        CultureInfo.InvariantCulture,
        $"{options.Limits.MaxForwardsPerSecondPerResponder:0.###} forwards/s and {options.Limits.MaxConcurrentForwardsPerResponder} at once per responder, "
        + $"{options.Limits.MaxForwardsPerSecondPerClient:0.###}/s and {options.Limits.MaxConcurrentForwardsPerClient} at once per client");

    /// <summary>
    /// A validator failure ("Member: message") with the option it is about in front: the setting named first in it (the
    /// message keeps the setting's name, for the docs, and any other setting it names gets its option beside it).
    /// </summary>
    internal static string Say(string failure)
    {
        int colon = failure.IndexOf(": ", StringComparison.Ordinal);
        string message = colon > 0 && failure.AsSpan(0, colon).IndexOfAnyExcept(Identifier) < 0 ? failure[(colon + 2)..] : failure;
        string? option = null;
        int first = int.MaxValue;
        foreach ((string member, string name) in Names)
        {
            int at = failure.IndexOf(member, StringComparison.Ordinal);
            if (at >= 0 && at < first)
            {
                (first, option) = (at, name);
            }
        }

        // Other settings the message names get their option beside them ("remove it from AllowedResponders (--allow-responder)").
        foreach ((string member, string name) in Names)
        {
            int at = name == option ? -1 : message.IndexOf(member, StringComparison.Ordinal);
            if (at >= 0)
            {
                message = string.Concat(message.AsSpan(0, at + member.Length), $" ({name})", message.AsSpan(at + member.Length));
            }
        }

        return option is null ? message : $"{option}: {message}";
    }

    private static TimeSpan Duration(ParseResult result, Option<string> option)
    {
        string text = result.GetValue(option)!;
        return Durations.TryParse(text, out TimeSpan value)
            ? value
            : throw new ToolException(ExitCodes.Usage, $"{option.Name} '{text}' is not a duration (e.g. 7d, 12h, 30m, 10s).");
    }
}
