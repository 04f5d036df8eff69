using System.Buffers;
using System.Diagnostics.CodeAnalysis;

namespace Headscale.Protocol.Buffers;

/// <summary>Growing a buffer rented from the shared pool while keeping what it holds.</summary>
public static class PooledBuffer
{
    /// <summary>
    /// Makes <paramref name="buffer"/> hold at least <paramref name="needed"/> bytes: null rents one of at least
    /// <paramref name="minimumSize"/>; a smaller one is replaced by one of twice its size (or <paramref name="needed"/>),
    /// its first <paramref name="used"/> bytes copied over and the old array returned to the pool.
    /// </summary>
    public static void EnsureCapacity([NotNull] ref byte[]? buffer, int used, int needed, int minimumSize)
    {
        if (buffer is not null && buffer.Length >= needed)
        {
            return;
        }

        var larger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, buffer is null ? minimumSize : buffer.Length * 2));
        if (buffer is not null)
        {
            buffer.AsSpan(0, used).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(buffer);
        }

        buffer = larger;
    }
}
