using System.CommandLine;
using Ocsp.Stapling.Tool;

var root = new RootCommand("ocsp-stapling: validated OCSP responses for TLS servers (fetch, renew, serve, inspect, status).")
{
    FetchCommand.Create(),
    RenewCommand.Create(),
    ServeCommand.Create(),
    InspectCommand.Create(),
    StatusCommand.Create(),
};

ParseResult parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    foreach (var error in parsed.Errors)
    {
        Console.Error.WriteLine("ocsp-stapling: " + error.Message);
    }

    Console.Error.WriteLine("Run 'ocsp-stapling --help' (or '<command> --help') for usage.");
    return ExitCodes.Usage;
}

return await parsed.InvokeAsync();

/// <summary>The tool's entry point: internal, so that the tool package exposes no API (ASP.NET Core's generator would make it public).</summary>
internal sealed partial class Program;
