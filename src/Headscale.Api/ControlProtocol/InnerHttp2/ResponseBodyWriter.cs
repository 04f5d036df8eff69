using System.IO.Pipelines;
using Headscale.Protocol.Buffers;

namespace Headscale.Api.ControlProtocol.InnerHttp2;

/// <summary>
/// The response body of one stream. Writes collect in a buffer rented for the occasion; a flush sends them as DATA frames
/// and gives the buffer back, so a long-poll stream waiting for its next frame holds no buffer.
/// </summary>
internal sealed class ResponseBodyWriter(InnerHttp2Stream stream, InnerHttp2Connection connection) : RentedBufferWriter
{
    public override async ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        await stream.StartResponseAsync();
        await SendBufferedAsync(endStream: false);
        return new FlushResult(isCanceled: false, isCompleted: stream.IsAborted);
    }

    /// <summary>Sends what is buffered (possibly nothing) and, with <paramref name="endStream"/>, ends the stream.</summary>
    internal async ValueTask SendBufferedAsync(bool endStream)
    {
        if (TakeBuffered() is not { } taken)
        {
            await connection.WriteDataAsync(stream, ReadOnlyMemory<byte>.Empty, endStream);
            return;
        }

        try
        {
            await connection.WriteDataAsync(stream, taken.Buffer.AsMemory(0, taken.Length), endStream);
        }
        finally
        {
            Release(taken.Buffer);
        }
    }

    /// <summary>Drops unsent bytes (the request failed before its response started).</summary>
    internal void DropUnsent() => Discard();

    public override void CancelPendingFlush()
    {
    }

    public override void Complete(Exception? exception = null)
    {
        // The response ends when the request delegate returns (or through IHttpResponseBodyFeature.CompleteAsync).
    }
}
