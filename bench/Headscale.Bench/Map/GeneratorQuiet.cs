using System.Diagnostics;
using System.Runtime;

namespace Headscale.Bench.Map;

/// <summary>
/// Keeps the load generator's own garbage collector out of a measured change. The generator holds thousands of
/// simulated clients in one heap, so each of its gen0 collections scans a large old generation; in a profile of
/// B2 at 5,000 nodes half of the generator's CPU went there, on the same two cores as the server it measures.
/// Real clients do not share a heap, so during a measure the generator allocates without collecting (a no-GC
/// region), and reports whether it had to collect anyway.
/// </summary>
internal sealed class GeneratorQuiet : IDisposable
{
    private readonly bool _holding;
    private readonly int _collectionsAtStart;
    private readonly long _allocatedAtStart;
    private readonly TimeSpan _cpuAtStart;

    private GeneratorQuiet(bool holding)
    {
        _holding = holding;
        _collectionsAtStart = GC.CollectionCount(0);
        _allocatedAtStart = GC.GetTotalAllocatedBytes();
        _cpuAtStart = Process.GetCurrentProcess().TotalProcessorTime;
    }

    /// <summary>Starts the quiet period with the largest no-GC region the runtime grants (up to 1 GiB).</summary>
    public static GeneratorQuiet Start()
    {
        for (var size = 1L << 30; size >= 64L << 20; size /= 2)
        {
            try
            {
                if (GC.TryStartNoGCRegion(size))
                {
                    return new GeneratorQuiet(holding: true);
                }
            }
            catch (ArgumentOutOfRangeException)
            {
                // Larger than this runtime allows for a region; try half.
            }
        }

        return new GeneratorQuiet(holding: false);
    }

    /// <summary>What the generator did during the quiet period; read before disposing.</summary>
    public GeneratorLoad Load => new(
        Process.GetCurrentProcess().TotalProcessorTime - _cpuAtStart,
        GC.CollectionCount(0) - _collectionsAtStart,
        GC.GetTotalAllocatedBytes() - _allocatedAtStart);

    public void Dispose()
    {
        // Allocating past the region's size ends it with a collection; then there is nothing to end.
        if (_holding && GCSettings.LatencyMode == GCLatencyMode.NoGCRegion)
        {
            GC.EndNoGCRegion();
        }
    }
}

/// <summary>The generator's own CPU, collections and allocations while one change was measured.</summary>
internal readonly record struct GeneratorLoad(TimeSpan Cpu, int Collections, long AllocatedBytes)
{
    public static GeneratorLoad operator +(GeneratorLoad a, GeneratorLoad b) =>
        new(a.Cpu + b.Cpu, a.Collections + b.Collections, a.AllocatedBytes + b.AllocatedBytes);
}
