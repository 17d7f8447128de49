namespace Ocsp.Stapling.Tests;

/// <summary>
/// The tests that measure the process's heap (<c>GC.GetTotalMemory</c>): the fault simulation's bound on growth and the
/// 100,000-certificate scale test. One collection, so that neither runs while the other holds its hundreds of
/// megabytes: a 90-day seed once failed "the heap grew 313 MB" while the scale test's certificates were alive beside it.
/// Other tests still run in parallel with them; what they hold at once is a few megabytes.
/// </summary>
[CollectionDefinition(Name)]
public sealed class HeapMeasurements
{
    public const string Name = "Heap measurements";
}
