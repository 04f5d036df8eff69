using System.Buffers;
using System.IO.Pipelines;

namespace Headscale.Protocol.Buffers;

/// <summary>
/// A <see cref="PipeWriter"/> whose unflushed bytes sit in one buffer rented from the shared pool for the occasion:
/// a flush hands them on (<see cref="TakeBuffered"/>) and the buffer goes back, so a writer that is idle between
/// messages (thousands of long-poll streams) holds none. Single writer, as every PipeWriter.
/// </summary>
public abstract class RentedBufferWriter : PipeWriter
{
    private const int MinimumBufferSize = 4096;

    private byte[]? _buffer;
    private int _written;

    public override bool CanGetUnflushedBytes => true;

    public override long UnflushedBytes => _written;

    public override void Advance(int bytes)
    {
        if (bytes < 0 || (bytes > 0 && (_buffer is null || _written + bytes > _buffer.Length)))
        {
            throw new ArgumentOutOfRangeException(nameof(bytes), "Advanced past the memory that was handed out.");
        }

        _written += bytes;
    }

    public override Memory<byte> GetMemory(int sizeHint = 0)
    {
        Reserve(sizeHint);
        return _buffer.AsMemory(_written);
    }

    public override Span<byte> GetSpan(int sizeHint = 0)
    {
        Reserve(sizeHint);
        return _buffer.AsSpan(_written);
    }

    /// <summary>
    /// The unflushed bytes, handed over with their buffer: the writer starts empty again and the caller returns the
    /// buffer (<see cref="Release"/>) once the bytes are sent. Null when nothing is buffered.
    /// </summary>
    protected (byte[] Buffer, int Length)? TakeBuffered()
    {
        var buffer = _buffer;
        var length = _written;
        _buffer = null;
        _written = 0;
        if (buffer is null)
        {
            return null;
        }

        if (length == 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            return null;
        }

        return (buffer, length);
    }

    /// <summary>Returns a buffer handed out by <see cref="TakeBuffered"/>.</summary>
    protected static void Release(byte[] buffer) => ArrayPool<byte>.Shared.Return(buffer);

    /// <summary>Drops the unflushed bytes.</summary>
    protected void Discard()
    {
        if (TakeBuffered() is { } taken)
        {
            Release(taken.Buffer);
        }
    }

    private void Reserve(int sizeHint)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sizeHint);
        PooledBuffer.EnsureCapacity(ref _buffer, _written, _written + Math.Max(sizeHint, 1), MinimumBufferSize);
    }
}
