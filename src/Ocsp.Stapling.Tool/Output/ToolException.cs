namespace Ocsp.Stapling.Tool;

/// <summary>An error the user can act on: printed as is (no stack trace) and turned into <see cref="ExitCode"/>.</summary>
internal sealed class ToolException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
