using System.Buffers;
using System.Collections.Concurrent;

namespace Headscale.Bench.Map;

/// <summary>
/// Buffers for the simulated clients' pipes that are kept once handed out. Thousands of clients in one process receive
/// a change at the same moment and each rents a buffer for it; the shared array pool keeps only a few per core, so
/// nearly every rent of a burst was a fresh array (the generator's largest allocation and a tenth of its CPU during
/// B2 at 5,000 nodes). Separate real clients would each reuse their own buffer; this pool lets the generator do the
/// same. Blocks are of one size; a larger request gets a one-off array.
/// </summary>
internal sealed class RetainingBufferPool : MemoryPool<byte>
{
    private const int BlockSize = 16 * 1024;
    private readonly ConcurrentStack<Block> _free = new();

    public static RetainingBufferPool Instance { get; } = new();

    public override int MaxBufferSize => BlockSize;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        if (minBufferSize > BlockSize)
        {
            return new OneOff(new byte[minBufferSize]);
        }

        return _free.TryPop(out var block) ? block : new Block(this);
    }

    protected override void Dispose(bool disposing)
    {
    }

    private sealed class Block(RetainingBufferPool pool) : IMemoryOwner<byte>
    {
        public Memory<byte> Memory { get; } = new byte[BlockSize];

        public void Dispose() => pool._free.Push(this);
    }

    private sealed class OneOff(byte[] array) : IMemoryOwner<byte>
    {
        public Memory<byte> Memory { get; } = array;

        public void Dispose()
        {
        }
    }
}
