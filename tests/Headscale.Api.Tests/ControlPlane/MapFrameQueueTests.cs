using Headscale.Api.ControlPlane;
using Headscale.Protocol.Tailcfg;

namespace Headscale.Api.Tests.ControlPlane;

public sealed class MapFrameQueueTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static MapFrame Frame(int n) => MapFrame.FromParts([System.Text.Encoding.ASCII.GetBytes($"{{\"n\":{n}}}")]);

    private static string Text(MapFrame frame)
    {
        var writer = new System.Buffers.ArrayBufferWriter<byte>();
        frame.WriteTo(writer);
        return System.Text.Encoding.ASCII.GetString(writer.WrittenSpan[4..]);
    }

    [Fact]
    public void Frames_come_out_in_order_across_growth_and_wrap_around()
    {
        var queue = new MapFrameQueue(capacity: 30);
        var expected = new List<string>();
        var taken = new List<string>();
        for (var round = 0; round < 3; round++)
        {
            for (var i = 0; i < 7; i++)
            {
                Assert.True(queue.TryWrite(Frame((round * 10) + i)));
                expected.Add($"{{\"n\":{(round * 10) + i}}}");
            }

            for (var i = 0; i < 5 && queue.TryRead(out var frame); i++)
            {
                taken.Add(Text(frame));
            }
        }

        while (queue.TryRead(out var rest))
        {
            taken.Add(Text(rest));
        }

        Assert.Equal(expected, taken);
    }

    [Fact]
    public void A_drained_queue_goes_back_to_four_slots()
    {
        var queue = new MapFrameQueue(capacity: 30);
        for (var i = 0; i < 20; i++)
        {
            queue.TryWrite(Frame(i));
        }

        Assert.Equal(30, queue.Slots);
        while (queue.TryRead(out _))
        {
        }

        Assert.Equal(4, queue.Slots);
    }

    [Fact]
    public async Task A_full_queue_refuses_and_its_writer_waits_until_the_reader_takes_a_frame()
    {
        var queue = new MapFrameQueue(capacity: 2);
        Assert.True(queue.TryWrite(Frame(1)));
        Assert.True(queue.TryWrite(Frame(2)));
        Assert.False(queue.TryWrite(Frame(3)));

        var room = queue.WaitToWriteAsync(Ct).AsTask();
        Assert.False(room.IsCompleted);
        Assert.True(queue.TryRead(out _));

        Assert.True(await room.WaitAsync(TimeSpan.FromSeconds(10), Ct));
        Assert.True(queue.TryWrite(Frame(3)));
    }

    [Fact]
    public async Task A_waiting_reader_wakes_on_the_writer_s_frame()
    {
        var queue = new MapFrameQueue(capacity: 4);
        var wait = queue.WaitToReadAsync().AsTask();
        Assert.False(wait.IsCompleted);

        queue.TryWrite(Frame(7));

        Assert.True(await wait.WaitAsync(TimeSpan.FromSeconds(10), Ct));
        Assert.True(queue.TryRead(out var frame));
        Assert.Equal("{\"n\":7}", Text(frame));
    }

    [Fact]
    public async Task Completion_lets_the_reader_finish_what_was_written_then_ends_or_throws_the_writer_s_error()
    {
        var plain = new MapFrameQueue(capacity: 4);
        plain.TryWrite(Frame(1));
        Assert.True(plain.TryComplete());
        Assert.False(plain.TryWrite(Frame(2)));
        Assert.True(await plain.WaitToReadAsync());
        Assert.True(plain.TryRead(out _));
        Assert.False(await plain.WaitToReadAsync());

        var failed = new MapFrameQueue(capacity: 4);
        var wait = failed.WaitToReadAsync().AsTask();
        failed.TryComplete(new MapSessionEndedTestException());
        await Assert.ThrowsAsync<MapSessionEndedTestException>(() => wait.WaitAsync(TimeSpan.FromSeconds(10), Ct));
        Assert.False(await failed.WaitToWriteAsync(Ct));
    }

    [Fact]
    public async Task Cancelling_the_reader_ends_its_wait_without_refusing_the_writer()
    {
        var queue = new MapFrameQueue(capacity: 4);
        var wait = queue.WaitToReadAsync().AsTask();
        using var aborted = new CancellationTokenSource();
        aborted.Cancel();

        queue.CancelReader(aborted.Token);

        var thrown = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait.WaitAsync(TimeSpan.FromSeconds(10), Ct));
        Assert.Equal(aborted.Token, thrown.CancellationToken);
        Assert.True(queue.TryWrite(Frame(1)));
        Assert.Throws<OperationCanceledException>(() => queue.WaitToReadAsync());
    }

    [Fact]
    public void A_second_waiting_reader_is_refused()
    {
        var queue = new MapFrameQueue(capacity: 4);
        _ = queue.WaitToReadAsync();

        Assert.Throws<InvalidOperationException>(() => queue.WaitToReadAsync());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void A_capacity_below_one_is_refused(int capacity)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new MapFrameQueue(capacity));
    }

    private sealed class MapSessionEndedTestException : Exception;
}
