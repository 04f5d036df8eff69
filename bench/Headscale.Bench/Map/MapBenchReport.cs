using System.Globalization;

namespace Headscale.Bench.Map;

/// <summary>How one change reached the sessions: sorted per-session latencies from the admin call.</summary>
internal sealed record ChangeResult(
    int Expected, double[] LatenciesMs, bool Complete, int StreamFailures, TimeSpan AdminCall, TimeSpan ServerCpu, GeneratorLoad Generator)
{
    public double Percentile(double p) =>
        LatenciesMs.Length == 0 ? double.NaN : LatenciesMs[Math.Clamp((int)Math.Ceiling(p * LatenciesMs.Length) - 1, 0, LatenciesMs.Length - 1)];

    public double Max => LatenciesMs.Length == 0 ? double.NaN : LatenciesMs[^1];

    /// <summary>Several rounds of the same change as one result: every (session, round) arrival counts.</summary>
    public static ChangeResult Combine(IReadOnlyList<ChangeResult> rounds) => new(
        rounds.Sum(r => r.Expected),
        [.. rounds.SelectMany(r => r.LatenciesMs).Order()],
        rounds.All(r => r.Complete),
        rounds.Sum(r => r.StreamFailures),
        TimeSpan.FromTicks(rounds.Max(r => r.AdminCall.Ticks)),
        TimeSpan.FromTicks(rounds.Sum(r => r.ServerCpu.Ticks)),
        rounds.Aggregate(default(GeneratorLoad), (sum, r) => sum + r.Generator));
}

/// <summary>Everything the map benchmark measured, printed as one table at the end (also after an early stop).</summary>
internal sealed class MapBenchReport(int nodes)
{
    public long RssAtStart { get; set; }

    public long RssAfterRegistration { get; set; }

    public long RssWithSessions { get; set; }

    /// <summary>Managed heap (<c>GC.GetTotalMemory(false)</c>) at the same three points; -1 when not readable.</summary>
    public long HeapAtStart { get; set; } = -1;

    /// <summary>RSS and managed heap right after a forced full collection, at start and with all sessions idle.</summary>
    public long RssAtStartCollected { get; set; }

    public long LiveHeapAtStart { get; set; } = -1;

    public long RssWithSessionsCollected { get; set; }

    public long LiveHeapWithSessions { get; set; } = -1;

    /// <summary>Memory the server's GC held from the OS after those two collections.</summary>
    public long GcCommittedAtStart { get; set; } = -1;

    public long GcCommittedWithSessions { get; set; } = -1;

    /// <summary>What the transport's buffer pool kept for reuse at the same point (what it has not trimmed yet).</summary>
    public long TransportPoolWithSessions { get; set; } = -1;

    /// <summary>The server's aggressive collections (decision 0910) up to the B1 reading, and their pauses.</summary>
    public (long Count, long PauseMs) MemoryReclaims { get; set; } = (-1, -1);

    public ResidentMemory? ResidentAtStart { get; set; }

    public ResidentMemory? ResidentAfterRegistration { get; set; }

    public ResidentMemory? ResidentWithSessions { get; set; }

    /// <summary>After the forced collection with sessions: heap and free space in it per generation.</summary>
    public (string Generation, long Size, long Fragmentation)[] HeapByGenerationWithSessions { get; set; } = [];

    public long HeapAfterRegistration { get; set; } = -1;

    public long HeapWithSessions { get; set; } = -1;

    public (TimeSpan Wall, TimeSpan ServerCpu)? Registration { get; set; }

    public (TimeSpan Wall, TimeSpan ServerCpu)? OpenSessions { get; set; }

    public (TimeSpan Wall, TimeSpan ServerCpu)? IdleCpu { get; set; }

    public long FullMapBytes { get; set; }

    /// <summary>Sessions whose stream the server ended after their full map (before the changes were measured).</summary>
    public int LostSessions { get; set; }

    /// <summary>Map requests sent again on a new ts2021 connection because the server had closed the idle one.</summary>
    public int Redials;

    public ChangeResult? Join { get; set; }

    public ChangeResult? Route { get; set; }

    /// <summary>B2 as performance.md defines it: one node's endpoint change reaching every peer as a patch, over several rounds.</summary>
    public ChangeResult? Endpoint { get; set; }

    public int EndpointRounds { get; set; }

    public ChangeResult? Policy { get; set; }

    public ChangeResult? SecondPolicy { get; set; }

    /// <summary>Prints the table; numbers are formatted invariantly (the caller sets the invariant culture).</summary>
    public void Print()
    {
        Console.WriteLine();
        Console.WriteLine($"| Measure ({nodes} nodes) | Value |");
        Console.WriteLine("|---|---|");
        Row("server RSS at start / after registration / with sessions",
            $"{Mib(RssAtStart)} / {Mib(RssAfterRegistration)} / {Mib(RssWithSessions)} MiB");
        if (RssWithSessions > 0)
        {
            Row("B1 RSS per idle session, all in (vs start; goal <= 24 KiB)", $"{(RssWithSessions - RssAtStart) / 1024.0 / nodes:F1} KiB");
            Row("B1 RSS per map stream only (vs after registration)", $"{(RssWithSessions - RssAfterRegistration) / 1024.0 / nodes:F1} KiB");
        }

        if (ResidentAtStart is { } atStart && ResidentAfterRegistration is { } registered && ResidentWithSessions is { } withSessions)
        {
            string Three(Func<ResidentMemory, long> part) => $"{Mib(part(atStart))} / {Mib(part(registered))} / {Mib(part(withSessions))} MiB";
            Row("RSS by mapping at start / after registration / with sessions (smaps)",
                $"anonymous (GC regions, stacks) {Three(static m => m.AnonymousBytes)}, native heap {Three(static m => m.NativeHeapBytes)}, "
                + $"jitted code {Three(static m => m.JittedCodeBytes)}, assemblies {Three(static m => m.AssemblyBytes)}, other files {Three(static m => m.OtherFileBytes)}");
        }

        if (HeapAtStart >= 0 && HeapWithSessions >= 0)
        {
            Row("server managed heap at start / after registration / with sessions",
                $"{Mib(HeapAtStart)} / {Mib(HeapAfterRegistration)} / {Mib(HeapWithSessions)} MiB");
            Row("managed heap per idle session, all in (vs start)", $"{(HeapWithSessions - HeapAtStart) / 1024.0 / nodes:F1} KiB");
        }

        if (LiveHeapAtStart >= 0 && LiveHeapWithSessions >= 0)
        {
            Row("after a forced full collection: RSS / live heap at start and with sessions",
                $"{Mib(RssAtStartCollected)} / {Mib(LiveHeapAtStart)} and {Mib(RssWithSessionsCollected)} / {Mib(LiveHeapWithSessions)} MiB");
            Row("after a forced full collection: RSS / live heap per idle session, all in",
                $"{(RssWithSessionsCollected - RssAtStartCollected) / 1024.0 / nodes:F1} / {(LiveHeapWithSessions - LiveHeapAtStart) / 1024.0 / nodes:F1} KiB");
            if (GcCommittedAtStart >= 0 && GcCommittedWithSessions >= 0)
            {
                Row("after a forced full collection: GC committed at start / with sessions / per idle session",
                    $"{Mib(GcCommittedAtStart)} / {Mib(GcCommittedWithSessions)} MiB / {(GcCommittedWithSessions - GcCommittedAtStart) / 1024.0 / nodes:F1} KiB");
            }

            if (HeapByGenerationWithSessions.Any(static g => g.Size >= 0))
            {
                Row("after a forced full collection: heap / free space in it per generation",
                    string.Join(", ", HeapByGenerationWithSessions.Select(static g => $"{g.Generation} {Mib(g.Size)} / {Mib(g.Fragmentation)} MiB")));
            }

            if (MemoryReclaims.Count >= 0)
            {
                Row("aggressive collections by the memory reclaimer before the B1 reading (pauses)",
                    $"{MemoryReclaims.Count} ({MemoryReclaims.PauseMs} ms)");
            }

            if (TransportPoolWithSessions >= 0)
            {
                Row("of the live heap: free connection buffers kept by the transport's pool, all / per idle session",
                    $"{Mib(TransportPoolWithSessions)} MiB / {TransportPoolWithSessions / 1024.0 / nodes:F1} KiB");
            }
        }

        if (Registration is { } r)
        {
            Row("registration", $"{r.Wall.TotalSeconds:F2} s, {nodes / r.Wall.TotalSeconds:F0} nodes/s, server CPU {r.ServerCpu.TotalSeconds:F2} s");
        }

        if (OpenSessions is { } o)
        {
            Row("open all sessions and read full maps",
                $"{o.Wall.TotalSeconds:F2} s, server CPU {o.ServerCpu.TotalSeconds:F2} s, full map avg {FullMapBytes / 1024.0 / nodes:F1} KiB zstd");
        }

        if (OpenSessions is not null)
        {
            Row("sessions ended by the server after their full map", $"{LostSessions}");
            Row("map requests redialled (ts2021 connection closed while idle)", $"{Redials}");
        }

        if (IdleCpu is { } idle && idle.Wall > TimeSpan.Zero)
        {
            Row($"server CPU while idle ({idle.Wall.TotalSeconds:F0} s)", $"{idle.ServerCpu.TotalSeconds / idle.Wall.TotalSeconds * 100:F1} % of one core");
        }

        Change("B2 node joins -> PeersChanged (goal p99 < 200 ms)", Join);
        Change("B2 route approved -> AllowedIPs (goal p99 < 200 ms)", Route);
        Change($"B2 endpoint change -> PeersChangedPatch, {EndpointRounds} rounds (goal p99 < 200 ms; admin call = slowest lite update, CPU = all rounds)", Endpoint);
        Change("B3 policy set -> new PacketFilter, all (goal max < 1 s)", Policy);
        Change("B3 second policy set (*:443 -> *:8443) -> new PacketFilter, all", SecondPolicy);
    }

    private static void Change(string name, ChangeResult? result)
    {
        if (result is null)
        {
            return;
        }

        Row(name, (
            $"{result.LatenciesMs.Length}/{result.Expected} received{(result.Complete ? "" : " (TIMED OUT)")}, " +
            $"p50 {result.Percentile(0.5):F0} ms, p99 {result.Percentile(0.99):F0} ms, max {result.Max:F0} ms; " +
            $"admin call {result.AdminCall.TotalMilliseconds:F0} ms, server CPU {result.ServerCpu.TotalSeconds:F2} s; " +
            $"generator CPU {result.Generator.Cpu.TotalSeconds:F2} s, {result.Generator.AllocatedBytes / 1024.0 / 1024.0:F0} MiB allocated, " +
            $"{result.Generator.Collections} collections" +
            (result.StreamFailures > 0 ? $", {result.StreamFailures} streams broke" : "")));
    }

    private static void Row(string name, string value) => Console.WriteLine($"| {name} | {value} |");

    private static string Mib(long bytes) => (bytes / 1024.0 / 1024.0).ToString("F1", CultureInfo.InvariantCulture);
}
