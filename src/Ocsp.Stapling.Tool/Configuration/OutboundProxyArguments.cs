using System.CommandLine;

namespace Ocsp.Stapling.Tool;

/// <summary>
/// <c>--proxy URL</c> and <c>--no-proxy</c> of <c>fetch</c>, <c>renew</c> and <c>serve</c>: the outbound HTTP proxy
/// responders are asked through (<see cref="OcspFetchOptions.Proxy"/>). Without either, the environment's proxy is used
/// (<c>HTTP_PROXY</c>, <c>HTTPS_PROXY</c>, <c>NO_PROXY</c>), as curl and openssl users expect. Credentials never go on the
/// command line (where <c>ps</c> shows them to every user of the machine): <c>user:password</c> comes from the
/// <see cref="CredentialsVariable"/> environment variable or the file of <c>--proxy-credentials-file</c>.
/// </summary>
internal sealed class OutboundProxyArguments
{
    /// <summary>The environment variable holding the proxy's Basic credentials, <c>user:password</c>.</summary>
    public const string CredentialsVariable = "OCSP_STAPLING_PROXY_CREDENTIALS";

    private readonly Option<string?> _proxy = new("--proxy")
    {
        Description = "Ask responders through this HTTP proxy, e.g. http://proxy.internal:3128; https:// responders through CONNECT. "
            + $"Basic credentials (user:password) from {CredentialsVariable} or --proxy-credentials-file, never in the URL. "
            + "Default: the environment's HTTP_PROXY / HTTPS_PROXY / NO_PROXY.",
    };

    private readonly Option<FileInfo?> _credentialsFile = new("--proxy-credentials-file")
    {
        Description = $"A file whose first line is user:password for --proxy (keep it mode 0600); or set {CredentialsVariable}.",
    };

    private readonly Option<bool> _noProxy = new("--no-proxy")
    {
        Description = "Ask responders directly, whatever HTTP_PROXY / HTTPS_PROXY say.",
    };

    public static OutboundProxyArguments Create() => new();

    public void AddTo(Command command)
    {
        command.Options.Add(_proxy);
        command.Options.Add(_credentialsFile);
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

        FileInfo? credentialsFile = result.GetValue(_credentialsFile);
        if (proxy is null)
        {
            if (credentialsFile is not null)
            {
                throw new ToolException(ExitCodes.Usage, "--proxy-credentials-file needs --proxy.");
            }

            return options => options.Fetch.Proxy.UseEnvironment = !direct;
        }

        if (!Uri.TryCreate(proxy, UriKind.Absolute, out Uri? address) || address.Scheme != Uri.UriSchemeHttp || address.Host.Length == 0 || address.AbsolutePath != "/")
        {
            string shown = Uri.TryCreate(proxy, UriKind.Absolute, out Uri? parsed) ? Internal.OutboundProxy.Describe(parsed) : "(not a URL)";
            throw new ToolException(ExitCodes.Usage, $"--proxy must be an http:// URL of a proxy, host and port only, e.g. http://proxy.internal:3128 (was {shown}).");
        }

        if (address.UserInfo.Length > 0)
        {
            throw new ToolException(
                ExitCodes.Usage,
                $"--proxy {Internal.OutboundProxy.Describe(address)}: credentials on the command line are visible to every user of the machine (ps); "
                + $"put user:password in {CredentialsVariable} or in a file given with --proxy-credentials-file.");
        }

        if (Credentials(credentialsFile) is { } credentials)
        {
            int colon = credentials.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                throw new ToolException(
                    ExitCodes.Usage, $"The proxy credentials ({(credentialsFile is null ? CredentialsVariable : "--proxy-credentials-file " + credentialsFile.FullName)}) must be user:password.");
            }

            address = new UriBuilder(address)
            {
                UserName = Uri.EscapeDataString(credentials[..colon]),
                Password = Uri.EscapeDataString(credentials[(colon + 1)..]),
            }.Uri;
        }

        return options => options.Fetch.Proxy.Address = address;
    }

    /// <summary>The <c>user:password</c> of the file, else of the environment variable; <see langword="null"/> without either.</summary>
    private static string? Credentials(FileInfo? file)
    {
        string? value;
        if (file is not null)
        {
            try
            {
                value = File.ReadLines(file.FullName).FirstOrDefault();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new ToolException(ExitCodes.NoInput, $"--proxy-credentials-file {file.FullName}: {ex.Message}");
            }

            if (string.IsNullOrWhiteSpace(value))
            {
                throw new ToolException(ExitCodes.Usage, $"--proxy-credentials-file {file.FullName} is empty: its first line must be user:password.");
            }

            if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(file.FullName) & (UnixFileMode.GroupRead | UnixFileMode.OtherRead)) != 0)
            {
                Console.Error.WriteLine($"ocsp-stapling: warning: --proxy-credentials-file {file.FullName} can be read by other users (chmod 600 it).");
            }
        }
        else
        {
            value = Environment.GetEnvironmentVariable(CredentialsVariable);
        }

        value = value?.Trim();
        return string.IsNullOrEmpty(value) ? null : value;
    }
}
