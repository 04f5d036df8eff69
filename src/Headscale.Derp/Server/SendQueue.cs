using System.Buffers;
using System.Net;
using Headscale.Derp.Keys;
using Headscale.Derp.Protocol;

namespace Headscale.Derp.Server;

/// <summary>A packet waiting to be written: payload in a pooled buffer owned by the queue until written or dropped.</summary>
internal struct QueuedPacket
{
    public DerpPublicKey Source;
    public DerpPublicKey Destination;
    public byte[] Buffer;
    public int Length;

    public static QueuedPacket Rent(in DerpPublicKey source, in DerpPublicKey destination, in ReadOnlySequence<byte> payload)
    {
        var length = (int)payload.Length;
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
        payload.CopyTo(buffer);
        return new QueuedPacket { Source = source, Destination = destination, Buffer = buffer, Length = length };
    }

    public readonly void Return() => ArrayPool<byte>.Shared.Return(Buffer);
}

internal enum ControlKind : byte { KeepAlive, Pong, PeerGone, PeerPresent, Health, Restarting, Ping }

/// <summary>A small non-packet frame; rare compared with packets, so it may carry references.</summary>
internal readonly record struct ControlFrame(
    ControlKind Kind, DerpPublicKey Key = default, ulong Data = 0, byte Flags = 0, IPEndPoint? Endpoint = null, string? Text = null);

/// <summary>
/// Bounded per-client send queue: a ring of packets, a separate ring of disco packets (so hole punching survives bulk
/// traffic) and a bounded queue of control frames. When a ring is full its oldest packet is dropped (head drop).
/// Rings are allocated on first use so idle connections cost almost nothing.
/// </summary>
internal sealed class SendQueue(int packetDepth, int controlDepth)
{
    private readonly Lock _lock = new();
    private readonly AsyncSignal _signal = new();
    private PacketRing _packets;
    private PacketRing _disco;
    private Queue<ControlFrame>? _control;
    private bool _closed;

    public bool IsClosed => Volatile.Read(ref _closed);

    /// <summary>Enqueues a packet; returns the dropped oldest packet's reason or null. The caller counts drops.</summary>
    /// <returns>False when the queue is closed (the caller still owns the buffer).</returns>
    public bool TryEnqueuePacket(in QueuedPacket packet, bool disco, out bool droppedOldest)
    {
        droppedOldest = false;
        QueuedPacket dropped = default;
        lock (_lock)
        {
            if (_closed) return false;
            ref var ring = ref disco ? ref _disco : ref _packets;
            ring.Items ??= new QueuedPacket[packetDepth];
            if (ring.Count == ring.Items.Length)
            {
                dropped = ring.Items[ring.Head];
                ring.Items[ring.Head] = default;
                ring.Head = (ring.Head + 1) % ring.Items.Length;
                ring.Count--;
                droppedOldest = true;
            }
            ring.Items[(ring.Head + ring.Count) % ring.Items.Length] = packet;
            ring.Count++;
        }
        if (droppedOldest) dropped.Return();
        _signal.Set();
        return true;
    }

    public bool TryEnqueueControl(in ControlFrame frame)
    {
        lock (_lock)
        {
            if (_closed) return false;
            _control ??= new Queue<ControlFrame>();
            if (_control.Count >= controlDepth) return false;
            _control.Enqueue(frame);
        }
        _signal.Set();
        return true;
    }

    public ValueTask WaitAsync() => _signal.WaitAsync();

    /// <summary>Dequeues control frames first, then disco, then regular packets.</summary>
    public bool TryDequeue(out ControlFrame control, out QueuedPacket packet, out bool isPacket)
    {
        control = default;
        packet = default;
        isPacket = false;
        lock (_lock)
        {
            if (_control is { Count: > 0 })
            {
                control = _control.Dequeue();
                return true;
            }
            if (_disco.TryTake(out packet) || _packets.TryTake(out packet))
            {
                isPacket = true;
                return true;
            }
            return false;
        }
    }

    /// <summary>Closes the queue, wakes the writer and returns every queued buffer; returns how many packets were discarded.</summary>
    public int Close()
    {
        var discarded = 0;
        lock (_lock)
        {
            if (_closed) return 0;
            _closed = true;
            while (_disco.TryTake(out var p) || _packets.TryTake(out p))
            {
                p.Return();
                discarded++;
            }
            _control?.Clear();
        }
        _signal.Set();
        return discarded;
    }

    private struct PacketRing
    {
        public QueuedPacket[]? Items;
        public int Head;
        public int Count;

        public bool TryTake(out QueuedPacket packet)
        {
            if (Count == 0)
            {
                packet = default;
                return false;
            }
            packet = Items![Head];
            Items[Head] = default;
            Head = (Head + 1) % Items.Length;
            Count--;
            return true;
        }
    }
}
