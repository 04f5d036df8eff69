using System.Buffers;
using System.IO.Pipelines;

namespace Headscale.Api.ControlProtocol.InnerHttp2;

/// <summary>
/// The response body of one stream. Writes collect in a buffer rented for the occasion; a flush sends them as DATA frames
/// and gives the buffer back, so a long-poll stream waiting for its next frame holds no buffer.
/// </summary>
internal sealed class ResponseBodyWriter(InnerHttp2Stream stream, InnerHttp2Connection connection) : PipeWriter
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

    private void Reserve(int sizeHint)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sizeHint);
        var needed = _written + Math.Max(sizeHint, 1);
        if (_buffer is not null && _buffer.Length >= needed)
        {
            return;
        }

        var larger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, _buffer is null ? MinimumBufferSize : _buffer.Length * 2));
        if (_buffer is not null)
        {
            _buffer.AsSpan(0, _written).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_buffer);
        }

        _buffer = larger;
    }

    public override async ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        await stream.StartResponseAsync();
        await SendBufferedAsync(endStream: false);
        return new FlushResult(isCanceled: false, isCompleted: stream.IsAborted);
    }

    /// <summary>Sends what is buffered (possibly nothing) and, with <paramref name="endStream"/>, ends the stream.</summary>
    internal async ValueTask SendBufferedAsync(bool endStream)
    {
        var buffer = _buffer;
        var length = _written;
        _buffer = null;
        _written = 0;
        try
        {
            await connection.WriteDataAsync(stream, buffer.AsMemory(0, length), endStream);
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    /// <summary>Drops unsent bytes (the request failed before its response started).</summary>
    internal void Discard()
    {
        if (_buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
        }

        _buffer = null;
        _written = 0;
    }

    public override void CancelPendingFlush()
    {
    }

    public override void Complete(Exception? exception = null)
    {
        // The response ends when the request delegate returns (or through IHttpResponseBodyFeature.CompleteAsync).
    }
}
