namespace Ocsp.Stapling.Benchmarks;

/// <summary>Marks a benchmark that must allocate 0 bytes per operation: <see cref="Program"/> fails the run otherwise (CI gate).</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class MustNotAllocateAttribute : Attribute
{
}
