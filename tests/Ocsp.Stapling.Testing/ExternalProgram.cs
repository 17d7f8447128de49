using System.Diagnostics;

namespace Ocsp.Stapling.Testing;

/// <summary>Runs external programs (openssl, nginx, haproxy…) found on PATH, with a timeout.</summary>
public static class ExternalProgram
{
    /// <summary>Full path of <paramref name="name"/> on PATH (or in sbin directories), or null.</summary>
    public static string? Find(string name)
    {
        string path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        IEnumerable<string> directories = path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/sbin", "/usr/local/sbin", "/sbin"]);
        foreach (string directory in directories)
        {
            string candidate = Path.Combine(directory, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    public static async Task<ProgramResult> RunAsync(
        string program,
        IEnumerable<string> arguments,
        string? workingDirectory = null,
        TimeSpan? timeout = null,
        byte[]? standardInput = null,
        IReadOnlyDictionary<string, string?>? environment = null)
    {
        // A client (openssl s_client, openssl ocsp -url) that found no free local port: on a loaded machine the ephemeral
        // ports can all be in TIME_WAIT for a while ("connect:errno=99", EADDRNOTAVAIL). That says nothing about the server
        // under test, so the command is run again once ports are free, for up to a minute, instead of failing the test.
        string[] listed = [.. arguments];
        DateTime deadline = DateTime.UtcNow.AddMinutes(1);
        while (true)
        {
            ProgramResult result = await RunOnceAsync(program, listed, workingDirectory, timeout, standardInput, environment).ConfigureAwait(false);
            if (result.ExitCode == 0 || !result.StandardError.Contains("errno=99", StringComparison.Ordinal) || DateTime.UtcNow > deadline)
            {
                return result;
            }

            await Task.Delay(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        }
    }

    private static async Task<ProgramResult> RunOnceAsync(
        string program,
        IEnumerable<string> arguments,
        string? workingDirectory,
        TimeSpan? timeout,
        byte[]? standardInput,
        IReadOnlyDictionary<string, string?>? environment)
    {
        var start = new ProcessStartInfo(Find(program) ?? program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach ((string name, string? value) in environment ?? new Dictionary<string, string?>())
        {
            start.Environment[name] = value; // null removes it
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {program}.");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (standardInput is not null)
        {
            await process.StandardInput.BaseStream.WriteAsync(standardInput).ConfigureAwait(false);
        }

        process.StandardInput.Close();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', start.ArgumentList)} did not finish in time.");
        }

        return new ProgramResult(process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
    }
}

public sealed record ProgramResult(int ExitCode, string StandardOutput, string StandardError)
{
    public override string ToString() => $"exit {ExitCode}\nstdout:\n{StandardOutput}\nstderr:\n{StandardError}";
}
