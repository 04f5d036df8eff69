using System.IO.Pipelines;
using Headscale.Protocol.Tailcfg;

namespace Headscale.Protocol.Tests.Tailcfg;

public sealed class MapFrameWriteTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static MapFrame Frame(int parts, int partSize) =>
        MapFrame.FromParts([.. Enumerable.Range(0, parts).Select(p => Enumerable.Range(0, partSize).Select(i => (byte)(p + i)).ToArray())]);

    [Fact]
    public async Task A_full_map_is_flushed_in_slices_of_about_the_given_size_and_arrives_whole()
    {
        var frame = Frame(parts: 10, partSize: 30_000);
        var writer = new RecordingWriter();

        await frame.WriteToAsync(writer, flushEvery: 64 * 1024, Ct);
        await writer.FlushAsync(Ct);

        Assert.Equal(frame.ToArray(), writer.Written);
        // Parts of 30,000 bytes: a flush after the third, sixth and ninth, then the caller's for the tenth.
        Assert.Equal([90_004, 90_000, 90_000, 30_000], writer.FlushedSlices);
    }

    [Fact]
    public async Task A_frame_within_the_slice_size_is_left_for_the_callers_flush()
    {
        var frame = Frame(parts: 3, partSize: 1000);
        var writer = new RecordingWriter();

        await frame.WriteToAsync(writer, flushEvery: 64 * 1024, Ct);

        Assert.Empty(writer.FlushedSlices);
        await writer.FlushAsync(Ct);
        Assert.Equal(frame.ToArray(), writer.Written);
    }

    [Fact]
    public async Task Once_the_reader_is_gone_the_rest_of_the_frame_is_not_written()
    {
        var frame = Frame(parts: 10, partSize: 30_000);
        var writer = new RecordingWriter { CompleteAfterFlushes = 1 };

        await frame.WriteToAsync(writer, flushEvery: 64 * 1024, Ct);

        Assert.Equal([90_004], writer.FlushedSlices);
        Assert.Equal(90_004, writer.Written.Length);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public async Task A_slice_size_that_is_not_positive_is_refused_before_anything_is_written(int flushEvery)
    {
        var writer = new RecordingWriter();

        var refused = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Frame(parts: 3, partSize: 1000).WriteToAsync(writer, flushEvery, Ct).AsTask());

        Assert.Equal("flushEvery", refused.ParamName);
        Assert.Empty(writer.Written);
    }

    /// <summary>Keeps what is written and the size of each flushed slice; can play a reader that goes away.</summary>
    private sealed class RecordingWriter : PipeWriter
    {
        private readonly System.Buffers.ArrayBufferWriter<byte> _buffer = new();
        private int _flushedUpTo;

        public List<int> FlushedSlices { get; } = [];

        public int CompleteAfterFlushes { get; init; } = int.MaxValue;

        public byte[] Written => _buffer.WrittenSpan.ToArray();

        public override void Advance(int bytes) => _buffer.Advance(bytes);

        public override Memory<byte> GetMemory(int sizeHint = 0) => _buffer.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => _buffer.GetSpan(sizeHint);

        public override void CancelPendingFlush()
        {
        }

        public override void Complete(Exception? exception = null)
        {
        }

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            if (_buffer.WrittenCount > _flushedUpTo)
            {
                FlushedSlices.Add(_buffer.WrittenCount - _flushedUpTo);
                _flushedUpTo = _buffer.WrittenCount;
            }

            return ValueTask.FromResult(new FlushResult(isCanceled: false, isCompleted: FlushedSlices.Count >= CompleteAfterFlushes));
        }
    }
}
