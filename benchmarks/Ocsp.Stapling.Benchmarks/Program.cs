using System.Reflection;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Ocsp.Stapling.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release --project benchmarks/Ocsp.Stapling.Benchmarks -- --filter '*'</c> (any BenchmarkDotNet
/// option). Exits 1 when a <see cref="MustNotAllocateAttribute"/> benchmark allocated: allocation is deterministic,
/// so CI gates on it; timings are reported, never gated.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args is ["--responder", string directory])
        {
            return BenchmarkResponder.RunAsync(directory).GetAwaiter().GetResult();
        }

        if (args is ["--floor", string port, string body, string headers])
        {
            return BenchmarkFloor.RunAsync(int.Parse(port, System.Globalization.CultureInfo.InvariantCulture), body, headers).GetAwaiter().GetResult();
        }

        IConfig config = DefaultConfig.Instance.AddExporter(MarkdownExporter.GitHub);
        Summary[] summaries = [.. BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config)];
        int failures = 0;
        foreach (BenchmarkReport report in summaries.SelectMany(s => s.Reports))
        {
            MethodInfo method = report.BenchmarkCase.Descriptor.WorkloadMethod;
            if (method.GetCustomAttribute<MustNotAllocateAttribute>() is null)
            {
                continue;
            }

            long? bytes = report.GcStats.GetBytesAllocatedPerOperation(report.BenchmarkCase);
            if (bytes is not 0)
            {
                Console.Error.WriteLine($"ALLOCATION GATE FAILED: {report.BenchmarkCase.DisplayInfo} allocated {bytes?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "an unknown number of"} bytes per operation (must be 0).");
                failures++;
            }
            else
            {
                Console.WriteLine($"Allocation gate passed: {report.BenchmarkCase.DisplayInfo} allocates 0 bytes per operation.");
            }
        }

        return failures == 0 && summaries.All(s => !s.HasCriticalValidationErrors) ? 0 : 1;
    }
}
