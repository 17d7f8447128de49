namespace Ocsp.Stapling.Tool;

internal static class ToolRunner
{
    /// <summary>Runs a command body: a <see cref="ToolException"/> becomes its message on stderr and its exit code.</summary>
    public static async Task<int> RunAsync(Func<Task<int>> body)
    {
        try
        {
            return await body().ConfigureAwait(false);
        }
        catch (ToolException ex)
        {
            await Console.Error.WriteLineAsync("ocsp-stapling: " + ex.Message).ConfigureAwait(false);
            return ex.ExitCode;
        }
    }
}
