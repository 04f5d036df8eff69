using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Connections;

namespace Headscale.Api.Hosting;

/// <summary>
/// Makes the server's <see cref="TrimmingMemoryPool"/>s (Kestrel asks for one per transport) and trims them all on one
/// timer. <see cref="ServerHost"/> registers it in place of Kestrel's factory, which the socket transport then uses.
/// </summary>
public sealed class TrimmingMemoryPoolFactory : IMemoryPoolFactory<byte>, IDisposable
{
    /// <summary>Every second: a burst's surplus halves each second, so a storm's blocks are gone within about 20 s.</summary>
    public static readonly TimeSpan DefaultTrimInterval = TimeSpan.FromSeconds(1);

    private static readonly ConcurrentDictionary<TrimmingMemoryPool, byte> LivePools = new();
    private static readonly Meter Meter = new(Headscale.Actors.Observability.HeadscaleMetrics.MeterName);

    private readonly ConcurrentDictionary<TrimmingMemoryPool, byte> _pools = new();
    private readonly ITimer _timer;

    static TrimmingMemoryPoolFactory()
    {
        Meter.CreateObservableUpDownCounter(
            "headscale_transport_pool_free_bytes",
            () => LivePools.Keys.Sum(static pool => (long)pool.FreeBlocks * TrimmingMemoryPool.BlockSize),
            "By",
            "Connection buffers held free for reuse (trimmed when not needed).");
        Meter.CreateObservableCounter(
            "headscale_transport_pool_allocated_bytes",
            () => LivePools.Keys.Sum(static pool => pool.AllocatedBlocks * TrimmingMemoryPool.BlockSize),
            "By",
            "Connection buffers allocated by the pools of live servers.");
        Meter.CreateObservableCounter(
            "headscale_transport_pool_released_bytes",
            () => LivePools.Keys.Sum(static pool => pool.ReleasedBlocks * TrimmingMemoryPool.BlockSize),
            "By",
            "Free connection buffers let go to the garbage collector.");
    }

    public TrimmingMemoryPoolFactory(TimeProvider timeProvider, TimeSpan trimInterval)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(trimInterval, TimeSpan.Zero);
        _timer = timeProvider.CreateTimer(static state => ((TrimmingMemoryPoolFactory)state!).TrimAll(), this, trimInterval, trimInterval);
    }

    /// <summary>The pools made and not yet disposed.</summary>
    public IReadOnlyCollection<TrimmingMemoryPool> Pools => [.. _pools.Keys];

    public MemoryPool<byte> Create(MemoryPoolOptions? options = null)
    {
        var pool = new TrimmingMemoryPool(Forget);
        _pools.TryAdd(pool, 0);
        LivePools.TryAdd(pool, 0);
        return pool;
    }

    /// <summary>Trims every pool once (the timer does this each interval).</summary>
    public int TrimAll()
    {
        var released = 0;
        foreach (var pool in _pools.Keys)
        {
            released += pool.Trim();
        }

        return released;
    }

    public void Dispose() => _timer.Dispose();

    private void Forget(TrimmingMemoryPool pool)
    {
        _pools.TryRemove(pool, out _);
        LivePools.TryRemove(pool, out _);
    }
}
