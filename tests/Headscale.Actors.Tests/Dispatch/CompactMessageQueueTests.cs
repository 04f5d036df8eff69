using Akka.Actor;
using Akka.Dispatch.MessageQueues;
using Headscale.Actors.Dispatch;

namespace Headscale.Actors.Tests.Dispatch;

public sealed class CompactMessageQueueTests
{
    private static Envelope Message(int n) => new(n, ActorRefs.NoSender);

    private static List<object> Drain(IMessageQueue queue)
    {
        var taken = new List<object>();
        while (queue.TryDequeue(out var envelope))
        {
            taken.Add(envelope.Message);
        }

        return taken;
    }

    [Fact]
    public void Messages_come_out_in_the_order_they_went_in_across_wrap_around_and_growth()
    {
        var queue = new CompactMessageQueue();
        var expected = new List<object>();
        var taken = new List<object>();
        var next = 0;

        // Interleave: three in, two out, so the head wraps around the ring before it has to grow.
        for (var round = 0; round < 50; round++)
        {
            for (var i = 0; i < 3; i++)
            {
                expected.Add(next);
                queue.Enqueue(ActorRefs.Nobody, Message(next++));
            }

            for (var i = 0; i < 2 && queue.TryDequeue(out var envelope); i++)
            {
                taken.Add(envelope.Message);
            }
        }

        Assert.Equal(50, queue.Count);
        taken.AddRange(Drain(queue));
        Assert.Equal(expected, taken);
        Assert.False(queue.HasMessages);
    }

    [Fact]
    public void A_ring_grown_by_a_burst_goes_back_to_four_slots_once_drained()
    {
        var queue = new CompactMessageQueue();
        Assert.Equal(4, queue.Capacity);
        for (var i = 0; i < 1000; i++)
        {
            queue.Enqueue(ActorRefs.Nobody, Message(i));
        }

        Assert.Equal(1024, queue.Capacity);
        Assert.Equal(Enumerable.Range(0, 1000).Cast<object>(), Drain(queue));
        Assert.Equal(4, queue.Capacity);
    }

    [Theory]
    [InlineData(5, 8)]
    [InlineData(16, 16)]
    public void A_small_burst_does_not_keep_its_larger_ring_either(int burst, int grownTo)
    {
        var queue = new CompactMessageQueue();
        for (var i = 0; i < burst; i++)
        {
            queue.Enqueue(ActorRefs.Nobody, Message(i));
        }

        Assert.Equal(grownTo, queue.Capacity);
        Assert.Equal(Enumerable.Range(0, burst).Cast<object>(), Drain(queue));
        Assert.Equal(4, queue.Capacity);
    }

    [Fact]
    public void Clean_up_hands_what_is_left_to_dead_letters_in_order()
    {
        var queue = new CompactMessageQueue();
        var deadLetters = new CompactMessageQueue();
        queue.Enqueue(ActorRefs.Nobody, Message(1));
        queue.Enqueue(ActorRefs.Nobody, Message(2));

        queue.CleanUp(ActorRefs.Nobody, deadLetters);

        Assert.Equal(0, queue.Count);
        Assert.Equal([1, 2], Drain(deadLetters));
    }

    [Fact]
    public async Task Concurrent_senders_lose_nothing_and_each_senders_order_holds()
    {
        const int Senders = 4;
        const int PerSender = 20_000;
        var queue = new CompactMessageQueue();
        var received = new List<(int Sender, int Sequence)>();
        using var start = new Barrier(Senders + 1);
        var senders = Enumerable.Range(0, Senders).Select(sender => Task.Run(
            () =>
            {
                start.SignalAndWait(TestContext.Current.CancellationToken);
                for (var i = 0; i < PerSender; i++)
                {
                    queue.Enqueue(ActorRefs.Nobody, new Envelope((sender, i), ActorRefs.NoSender));
                }
            },
            TestContext.Current.CancellationToken)).ToArray();

        start.SignalAndWait(TestContext.Current.CancellationToken);
        var sending = Task.WhenAll(senders);
        while (!sending.IsCompleted || queue.HasMessages)
        {
            if (queue.TryDequeue(out var envelope))
            {
                received.Add(((int, int))envelope.Message);
            }
        }

        await sending;
        Assert.Equal(Senders * PerSender, received.Count);
        foreach (var group in received.GroupBy(static r => r.Sender))
        {
            Assert.Equal(Enumerable.Range(0, PerSender), group.Select(static r => r.Sequence));
        }
    }
}
