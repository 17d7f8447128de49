using Microsoft.Extensions.Logging;

namespace Ocsp.Stapling.Tool;

/// <summary>The tool's own log messages (the library logs the rest).</summary>
internal static partial class ToolLog
{
    /// <summary>The exception behind a start-up failure the tool says in one line (a port in use): at Debug only.</summary>
    [LoggerMessage(1, LogLevel.Debug, "Start-up failed")]
    public static partial void StartFailed(ILogger logger, Exception exception);
}
