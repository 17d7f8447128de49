using System.CommandLine;

namespace Ocsp.Stapling.Tool;

/// <summary>
/// <c>--proxy URL</c> and <c>--no-proxy</c> of <c>fetch</c>, <c>renew</c> and <c>serve</c>: the outbound HTTP proxy
/// responders are asked through (<see cref="OcspFetchOptions.Proxy"/>). Without either, the environment's proxy is used
/// (<c>HTTP_PROXY</c>, <c>HTTPS_PROXY</c>, <c>NO_PROXY</c>), as curl and openssl users expect.
/// </summary>
internal sealed class OutboundProxyArguments
{
    private readonly Option<string?> _proxy = new("--proxy")
    {
        Description = "Ask responders through this HTTP proxy, e.g. http://proxy.internal:3128 (http://user:password@… for Basic credentials); https:// responders through CONNECT. "
            + "Default: the environment's HTTP_PROXY / HTTPS_PROXY / NO_PROXY.",
    };

    private readonly Option<bool> _noProxy = new("--no-proxy")
    {
        Description = "Ask responders directly, whatever HTTP_PROXY / HTTPS_PROXY say.",
    };

    public static OutboundProxyArguments Create() => new();

    public void AddTo(Command command)
    {
        command.Options.Add(_proxy);
        command.Options.Add(_noProxy);
    }

    /// <summary>What the command line chose, checked (exit 64 with the reason), as a change to the provider's options.</summary>
    public Action<OcspStaplingOptions> Parse(ParseResult result)
    {
        string? proxy = result.GetValue(_proxy);
        bool direct = result.GetValue(_noProxy);
        if (proxy is not null && direct)
        {
            throw new ToolException(ExitCodes.Usage, "Give --proxy or --no-proxy, not both.");
        }

        if (proxy is null)
        {
            return options => options.Fetch.Proxy.UseEnvironment = !direct;
        }

        if (!Uri.TryCreate(proxy, UriKind.Absolute, out Uri? address) || address.Scheme != Uri.UriSchemeHttp || address.Host.Length == 0 || address.AbsolutePath != "/")
        {
            string shown = Uri.TryCreate(proxy, UriKind.Absolute, out Uri? parsed) ? Internal.OutboundProxy.Describe(parsed) : "(not a URL)";
            throw new ToolException(ExitCodes.Usage, $"--proxy must be an http:// URL of a proxy, host and port only, e.g. http://proxy.internal:3128 (was {shown}).");
        }

        return options => options.Fetch.Proxy.Address = address;
    }
}
