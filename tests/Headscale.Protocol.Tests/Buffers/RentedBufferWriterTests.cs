using System.Buffers;
using System.IO.Pipelines;
using Headscale.Protocol.Buffers;

namespace Headscale.Protocol.Tests.Buffers;

public sealed class RentedBufferWriterTests
{
    [Fact]
    public async Task Bytes_written_across_buffer_growth_are_flushed_in_order_and_the_writer_is_left_empty()
    {
        var writer = new CollectingWriter();
        var data = Enumerable.Range(0, 20_000).Select(i => (byte)i).ToArray();

        // Small writes first, then one larger than the first buffer: the buffer grows and keeps what came before.
        writer.Write(data.AsSpan(0, 100));
        writer.Write(data.AsSpan(100, 5_000));
        writer.Write(data.AsSpan(5_100));
        Assert.Equal(data.Length, writer.UnflushedBytes);
        await writer.FlushAsync(TestContext.Current.CancellationToken);

        Assert.Equal(data, writer.Flushed.ToArray());
        Assert.Equal(0, writer.UnflushedBytes);
    }

    [Fact]
    public async Task A_flush_with_nothing_written_hands_nothing_over()
    {
        var writer = new CollectingWriter();

        writer.GetSpan(10);
        await writer.FlushAsync(TestContext.Current.CancellationToken);

        Assert.Empty(writer.Flushed);
        Assert.Equal(0, writer.Flushes);
    }

    [Fact]
    public void Advancing_past_the_memory_handed_out_is_refused()
    {
        var writer = new CollectingWriter();

        Assert.Throws<ArgumentOutOfRangeException>(() => writer.Advance(1));
        var handedOut = writer.GetSpan(16).Length;
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.Advance(handedOut + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.Advance(-1));
    }

    private sealed class CollectingWriter : RentedBufferWriter
    {
        public List<byte> Flushed { get; } = [];

        public int Flushes { get; private set; }

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            if (TakeBuffered() is { } taken)
            {
                Flushes++;
                Flushed.AddRange(taken.Buffer.AsSpan(0, taken.Length));
                Release(taken.Buffer);
            }

            return ValueTask.FromResult(new FlushResult(isCanceled: false, isCompleted: false));
        }

        public override void CancelPendingFlush()
        {
        }

        public override void Complete(Exception? exception = null) => Discard();
    }
}
