using System.Buffers;
using System.Collections.Concurrent;

namespace Headscale.Api.Hosting;

/// <summary>
/// The socket transport's buffers: 4 KiB blocks as in Kestrel's own pool, but each <see cref="Trim"/> lets go half of
/// the free blocks that no rent needed since the previous trim. Kestrel's pool keeps what a burst needed and gives it
/// back slowly: after the opening storm of 5,000 full maps it still held 16 KiB per idle session a minute later.
/// The blocks are ordinary, movable arrays, not pinned ones (decision 0908): the few a quiet server still holds would
/// otherwise pin every pinned-heap region the storm filled, and the collector could give none of them back.
/// </summary>
public sealed class TrimmingMemoryPool : MemoryPool<byte>
{
    public const int BlockSize = 4096;

    private readonly ConcurrentQueue<Block> _free = new();
    private readonly Action<TrimmingMemoryPool>? _onDisposed;
    private int _freeCount;

    // The fewest free blocks seen since the previous trim: that many were never needed in the interval.
    private int _lowWater;
    private long _allocated;
    private long _released;
    private volatile bool _disposed;

    public TrimmingMemoryPool()
        : this(null)
    {
    }

    internal TrimmingMemoryPool(Action<TrimmingMemoryPool>? onDisposed)
    {
        _onDisposed = onDisposed;
    }

    public override int MaxBufferSize => BlockSize;

    /// <summary>Blocks waiting in the pool for the next rent.</summary>
    public int FreeBlocks => Volatile.Read(ref _freeCount);

    /// <summary>Blocks this pool has allocated since it was made.</summary>
    public long AllocatedBlocks => Interlocked.Read(ref _allocated);

    /// <summary>Free blocks this pool has let go (by trimming, or returned after it was disposed).</summary>
    public long ReleasedBlocks => Interlocked.Read(ref _released);

    /// <param name="minBufferSize">At most <see cref="BlockSize"/>; -1 for a block. Pipes ask the array pool for more.</param>
    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        if (minBufferSize > BlockSize)
        {
            throw new ArgumentOutOfRangeException(nameof(minBufferSize), minBufferSize, $"Blocks of this pool are {BlockSize} bytes.");
        }

        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_free.TryDequeue(out var block))
        {
            var left = Interlocked.Decrement(ref _freeCount);
            if (left < Volatile.Read(ref _lowWater))
            {
                // A lost race only makes the mark a little high for one interval: one trim keeps a few more blocks.
                Volatile.Write(ref _lowWater, left);
            }

            return block;
        }

        Volatile.Write(ref _lowWater, 0);
        Interlocked.Increment(ref _allocated);
        return new Block(this);
    }

    /// <summary>
    /// Lets go half (rounded up) of the blocks that stayed free since the previous trim, and starts the next interval.
    /// Returns how many it let go. Steady traffic keeps its working set: blocks it rents lower the mark.
    /// </summary>
    public int Trim()
    {
        var unused = Math.Min(Volatile.Read(ref _lowWater), Volatile.Read(ref _freeCount));
        var release = (unused + 1) / 2;
        var released = 0;
        while (released < release && _free.TryDequeue(out _))
        {
            Interlocked.Decrement(ref _freeCount);
            released++;
        }

        Interlocked.Add(ref _released, released);
        Volatile.Write(ref _lowWater, Volatile.Read(ref _freeCount));
        return released;
    }

    protected override void Dispose(bool disposing)
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        while (_free.TryDequeue(out _))
        {
            Interlocked.Decrement(ref _freeCount);
            Interlocked.Increment(ref _released);
        }

        _onDisposed?.Invoke(this);
    }

    private void Return(Block block)
    {
        if (_disposed)
        {
            Interlocked.Increment(ref _released);
            return;
        }

        _free.Enqueue(block);
        Interlocked.Increment(ref _freeCount);
    }

    private sealed class Block : IMemoryOwner<byte>
    {
        private readonly TrimmingMemoryPool _pool;

        public Block(TrimmingMemoryPool pool)
        {
            _pool = pool;
            // Sockets pin a block only while a send or receive runs on it.
            Memory = GC.AllocateUninitializedArray<byte>(BlockSize);
        }

        public Memory<byte> Memory { get; }

        public void Dispose() => _pool.Return(this);
    }
}
