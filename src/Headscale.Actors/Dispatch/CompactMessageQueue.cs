using Akka.Actor;
using Akka.Dispatch;
using Akka.Dispatch.MessageQueues;

namespace Headscale.Actors.Dispatch;

/// <summary>
/// An unbounded mailbox queue that costs little while empty: a ring of envelopes under a lock, starting at four slots,
/// growing by doubling and shrinking back once it drains after a burst. The default queue starts every actor with a
/// 32-slot lock-free segment of about 1.1 KiB; the server runs two actors per node (the node and its map session), and
/// nearly all of them are idle nearly all of the time. Meant for actors with few senders at once, not for hot
/// many-to-one actors such as the network map. It locks on itself (no lock object per queue); nothing else locks on a
/// mailbox's queue.
/// </summary>
public sealed class CompactMessageQueue : IMessageQueue, IUnboundedMessageQueueSemantics
{
    // A drained ring goes back to this size: a burst must not pin its peak (a storm left most rings at 8–16 slots).
    private const int InitialCapacity = 4;

    private Envelope[] _ring = new Envelope[InitialCapacity];
    private int _head;
    private int _count;

    public bool HasMessages => Volatile.Read(ref _count) > 0;

    public int Count => Volatile.Read(ref _count);

    /// <summary>Slots the ring has now (for tests: it grows with a burst and shrinks once drained).</summary>
    internal int Capacity
    {
        get
        {
            lock (this)
            {
                return _ring.Length;
            }
        }
    }

    public void Enqueue(IActorRef receiver, Envelope envelope)
    {
        lock (this)
        {
            if (_count == _ring.Length)
            {
                Grow();
            }

            _ring[(_head + _count) & (_ring.Length - 1)] = envelope;
            Volatile.Write(ref _count, _count + 1);
        }
    }

    public bool TryDequeue(out Envelope envelope)
    {
        lock (this)
        {
            if (_count == 0)
            {
                envelope = default;
                return false;
            }

            envelope = _ring[_head];
            _ring[_head] = default;
            _head = (_head + 1) & (_ring.Length - 1);
            Volatile.Write(ref _count, _count - 1);
            if (_count == 0)
            {
                _head = 0;
                if (_ring.Length > InitialCapacity)
                {
                    _ring = new Envelope[InitialCapacity];
                }
            }

            return true;
        }
    }

    public void CleanUp(IActorRef owner, IMessageQueue deadletters)
    {
        while (TryDequeue(out var envelope))
        {
            deadletters.Enqueue(owner, envelope);
        }
    }

    private void Grow()
    {
        var grown = new Envelope[_ring.Length * 2];
        for (var i = 0; i < _count; i++)
        {
            grown[i] = _ring[(_head + i) & (_ring.Length - 1)];
        }

        _ring = grown;
        _head = 0;
    }
}
