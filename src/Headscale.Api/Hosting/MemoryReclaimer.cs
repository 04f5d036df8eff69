using System.Diagnostics.Metrics;

namespace Headscale.Api.Hosting;

/// <summary>
/// Gives memory back to the system once a storm is over. Thousands of clients reconnecting at once (each gets a full
/// map) grow the collector's heap; afterwards the live heap is small again, but the collector keeps the regions it grew
/// into committed for an allocation rate that is gone: at 5,000 idle sessions, 420 MiB committed for a 200 MiB heap
/// with no free space left in it (decision 0910). When the server has been quiet for a check interval and the collector
/// has grown by half since it last gave memory back, this asks for one aggressive collection, which compacts and
/// decommits what the heap does not use, and then has the C library give back its free native pages. Each collection
/// is counted in <c>headscale_memory_reclaims_total</c>, with its pause and what the collector gave back.
/// </summary>
public sealed partial class MemoryReclaimer : BackgroundService
{
    public static readonly TimeSpan DefaultCheckInterval = TimeSpan.FromSeconds(10);

    /// <summary>
    /// At least this long between two aggressive collections, and at least <see cref="PauseShare"/> times the last one's
    /// pause: the server spends at most about 1% of its time in them however large the heap.
    /// </summary>
    public static readonly TimeSpan MinimumSpacing = TimeSpan.FromSeconds(30);

    /// <summary>How many times its own pause must pass after a collection before the next one.</summary>
    public const int PauseShare = 100;

    /// <summary>Growth of the committed memory worth a pause: at least this much, and at least half of what it was.</summary>
    public const long MinimumGrowthBytes = 64L << 20;

    /// <summary>Allocations in one check interval below which the server counts as quiet (a storm allocates far more).</summary>
    public const long QuietAllocationBytes = 64L << 20;

    private static readonly Meter Meter = new(Headscale.Actors.Observability.HeadscaleMetrics.MeterName);
    private static readonly Counter<long> Reclaims =
        Meter.CreateCounter<long>("headscale_memory_reclaims", description: "Aggressive collections run once the server was quiet.");
    private static readonly Counter<double> ReclaimPauses =
        Meter.CreateCounter<double>("headscale_memory_reclaim_pause_seconds", "s", "Time the server was paused by those collections.");
    private static readonly Counter<long> ReclaimedBytes =
        Meter.CreateCounter<long>("headscale_memory_reclaimed_bytes", "By", "Committed memory those collections gave back to the system.");

    private readonly ILogger<MemoryReclaimer> _logger;
    private readonly TimeProvider _time;
    private readonly TimeSpan _checkInterval;
    private readonly Func<MemorySample> _sample;
    private readonly Action _collect;

    public MemoryReclaimer(ILogger<MemoryReclaimer> logger, TimeProvider time)
        : this(logger, time, DefaultCheckInterval, SampleRuntime, CollectAggressively)
    {
    }

    internal MemoryReclaimer(ILogger<MemoryReclaimer> logger, TimeProvider time, TimeSpan checkInterval, Func<MemorySample> sample, Action collect)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(checkInterval, TimeSpan.Zero);
        _logger = logger;
        _time = time;
        _checkInterval = checkInterval;
        _sample = sample;
        _collect = collect;
    }

    /// <summary>What the collector holds and the heap it holds it for, as of its last collection, and all allocations so far.</summary>
    internal readonly record struct MemorySample(long CommittedBytes, long HeapBytes, long AllocatedBytes);

    /// <summary>
    /// Whether to collect now: the server allocated little since the previous check (the storm is over), the last
    /// aggressive collection is at least <paramref name="requiredSpacing"/> ago (<see cref="SpacingAfter"/>; a first
    /// one any time), and the collector holds at least
    /// <see cref="MinimumGrowthBytes"/> and at least half more than <paramref name="baselineCommittedBytes"/> (what it
    /// held at start or right after the previous reclaim). The committed size, not the heap size, is what can be
    /// judged without a full collection: after the cheap collections of a storm the heap still counts its garbage.
    /// </summary>
    internal static bool ShouldReclaim(MemorySample previous, MemorySample now, long baselineCommittedBytes, TimeSpan sinceLastReclaim, TimeSpan requiredSpacing)
    {
        var quiet = now.AllocatedBytes - previous.AllocatedBytes < QuietAllocationBytes;
        var growth = now.CommittedBytes - baselineCommittedBytes;
        return quiet && sinceLastReclaim >= requiredSpacing && growth >= MinimumGrowthBytes && growth >= baselineCommittedBytes / 2;
    }

    /// <summary>How long to wait after a collection that paused the server for <paramref name="pause"/>.</summary>
    internal static TimeSpan SpacingAfter(TimeSpan pause) =>
        pause * PauseShare > MinimumSpacing ? pause * PauseShare : MinimumSpacing;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_checkInterval, _time);
        var previous = _sample();
        var baseline = previous.CommittedBytes;
        var lastReclaim = _time.GetTimestamp();
        var spacing = TimeSpan.Zero;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                var now = _sample();
                if (ShouldReclaim(previous, now, baseline, _time.GetElapsedTime(lastReclaim), spacing))
                {
                    var started = _time.GetTimestamp();
                    _collect();
                    lastReclaim = _time.GetTimestamp();
                    var pause = _time.GetElapsedTime(started, lastReclaim);
                    spacing = SpacingAfter(pause);
                    var after = _sample();
                    var released = Math.Max(0, now.CommittedBytes - after.CommittedBytes);
                    Reclaims.Add(1);
                    ReclaimPauses.Add(pause.TotalSeconds);
                    ReclaimedBytes.Add(released);
                    LogReclaimed(_logger, released >> 20, after.CommittedBytes >> 20, after.HeapBytes >> 20, pause.TotalMilliseconds);
                    baseline = after.CommittedBytes;
                    now = after;
                }

                previous = now;
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private static MemorySample SampleRuntime()
    {
        var info = GC.GetGCMemoryInfo();
        return new MemorySample(info.TotalCommittedBytes, info.HeapSizeBytes, GC.GetTotalAllocatedBytes());
    }

    private static void CollectAggressively()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        // The storm's native allocations (JIT, sockets, compression contexts, its threads) were freed into the C
        // library's arenas, which keep them as the collector kept its regions.
        NativeHeap.Trim();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "gave {ReleasedMiB} MiB back to the system after a quiet interval ({CommittedMiB} MiB committed for a {HeapMiB} MiB heap; {PauseMs:F0} ms)")]
    private static partial void LogReclaimed(ILogger logger, long releasedMiB, long committedMiB, long heapMiB, double pauseMs);
}
