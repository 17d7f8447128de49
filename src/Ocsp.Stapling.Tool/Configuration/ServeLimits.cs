using System.CommandLine;
using System.Globalization;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Ocsp.Stapling.Tool;

/// <summary>
/// <c>serve</c>'s limits on its clients' connections (Kestrel's connection, header and data-rate limits; the limits on the
/// upstream traffic they can cause are <see cref="ProxyArguments"/>'). Defaults suit a proxy on a private network in front of web servers.
/// </summary>
internal sealed class ServeLimits
{
    private readonly Option<int> _maxConnections = new("--max-connections")
    {
        Description = "Accept at most this many client connections at once; further ones are closed at once.",
        DefaultValueFactory = _ => 1024,
    };

    private readonly Option<string> _headerTimeout = new("--header-timeout")
    {
        Description = "Close a connection whose request headers have not all arrived in this long (slowloris), e.g. 10s.",
        DefaultValueFactory = _ => "10s",
    };

    private readonly Option<string> _keepAliveTimeout = new("--keep-alive-timeout")
    {
        Description = "Close an idle keep-alive connection after this long, e.g. 30s.",
        DefaultValueFactory = _ => "30s",
    };

    private readonly Option<int> _minDataRate = new("--min-data-rate")
    {
        Description = "Close a connection whose request body arrives, or whose response is read, slower than this many bytes a second "
            + "after a 5-second grace period (0: no minimum).",
        DefaultValueFactory = _ => 240,
    };

    public static ServeLimits Create() => new();

    public void AddTo(Command command)
    {
        command.Options.Add(_maxConnections);
        command.Options.Add(_headerTimeout);
        command.Options.Add(_keepAliveTimeout);
        command.Options.Add(_minDataRate);
    }

    /// <summary>The limits given, each checked (exit 64 with the option's name and the accepted range).</summary>
    public Values Parse(ParseResult result)
    {
        int connections = result.GetValue(_maxConnections);
        if (connections < 1)
        {
            throw new ToolException(ExitCodes.Usage, $"--max-connections must be 1 or more, not {connections}.");
        }

        int rate = result.GetValue(_minDataRate);
        if (rate < 0)
        {
            throw new ToolException(ExitCodes.Usage, $"--min-data-rate must be 0 (no minimum) or more bytes a second, not {rate}.");
        }

        return new Values(
            connections,
            Timeout(result, _headerTimeout),
            Timeout(result, _keepAliveTimeout),
            rate);
    }

    private static TimeSpan Timeout(ParseResult result, Option<string> option)
    {
        string text = result.GetValue(option)!;
        return Durations.TryParse(text, out TimeSpan value) && value >= TimeSpan.FromSeconds(1) && value <= TimeSpan.FromHours(1)
            ? value
            : throw new ToolException(ExitCodes.Usage, $"{option.Name} '{text}' is not a duration between 1s and 1h (e.g. 10s, 2m).");
    }

    internal sealed record Values(
        int MaxConnections,
        TimeSpan HeaderTimeout,
        TimeSpan KeepAliveTimeout,
        int MinDataRate)
    {
        private static readonly TimeSpan Grace = TimeSpan.FromSeconds(5);

        public void Apply(KestrelServerOptions kestrel)
        {
            kestrel.Limits.MaxConcurrentConnections = MaxConnections;
            kestrel.Limits.RequestHeadersTimeout = HeaderTimeout;
            kestrel.Limits.KeepAliveTimeout = KeepAliveTimeout;
            kestrel.Limits.MinRequestBodyDataRate = MinDataRate > 0 ? new MinDataRate(MinDataRate, Grace) : null;
            kestrel.Limits.MinResponseDataRate = MinDataRate > 0 ? new MinDataRate(MinDataRate, Grace) : null;
            kestrel.AddServerHeader = false;
        }

        public string Describe() => string.Create(
            CultureInfo.InvariantCulture,
            $"{MaxConnections} connections, headers within {HeaderTimeout.TotalSeconds:0.###} s");
    }
}
