using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using Headscale.Derp.Keys;

namespace Headscale.Derp.Protocol;

/// <summary>
/// Pure frame serializer into any <see cref="IBufferWriter{T}"/> (usually a <c>PipeWriter</c>).
/// Each method reserves the whole frame with one <c>GetSpan</c> and never allocates.
/// </summary>
public static class DerpFrameWriter
{
    public static void WriteHeader(Span<byte> destination, DerpFrameType type, int payloadLength)
    {
        destination[0] = (byte)type;
        BinaryPrimitives.WriteUInt32BigEndian(destination[1..], (uint)payloadLength);
    }

    public static void WriteFrame(IBufferWriter<byte> writer, DerpFrameType type, ReadOnlySpan<byte> payload)
    {
        var span = writer.GetSpan(DerpConstants.FrameHeaderLength + payload.Length);
        WriteHeader(span, type, payload.Length);
        payload.CopyTo(span[DerpConstants.FrameHeaderLength..]);
        writer.Advance(DerpConstants.FrameHeaderLength + payload.Length);
    }

    public static void WriteServerKey(IBufferWriter<byte> writer, in DerpPublicKey serverKey)
    {
        const int length = 8 + DerpConstants.KeyLength;
        var span = writer.GetSpan(DerpConstants.FrameHeaderLength + length);
        WriteHeader(span, DerpFrameType.ServerKey, length);
        DerpConstants.Magic.CopyTo(span[5..]);
        serverKey.CopyTo(span[13..]);
        writer.Advance(DerpConstants.FrameHeaderLength + length);
    }

    /// <summary>SendPacket (client → server) or RecvPacket (server → client): a key then the packet.</summary>
    public static void WriteKeyAndPacket(IBufferWriter<byte> writer, DerpFrameType type, in DerpPublicKey key, ReadOnlySpan<byte> packet)
    {
        var length = DerpConstants.KeyLength + packet.Length;
        var span = writer.GetSpan(DerpConstants.FrameHeaderLength + length);
        WriteHeader(span, type, length);
        key.CopyTo(span[5..]);
        packet.CopyTo(span[(5 + DerpConstants.KeyLength)..]);
        writer.Advance(DerpConstants.FrameHeaderLength + length);
    }

    public static void WriteForwardPacket(IBufferWriter<byte> writer, in DerpPublicKey source, in DerpPublicKey destination, ReadOnlySpan<byte> packet)
    {
        var length = 2 * DerpConstants.KeyLength + packet.Length;
        var span = writer.GetSpan(DerpConstants.FrameHeaderLength + length);
        WriteHeader(span, DerpFrameType.ForwardPacket, length);
        source.CopyTo(span[5..]);
        destination.CopyTo(span[37..]);
        packet.CopyTo(span[69..]);
        writer.Advance(DerpConstants.FrameHeaderLength + length);
    }

    public static void WriteEmpty(IBufferWriter<byte> writer, DerpFrameType type)
    {
        var span = writer.GetSpan(DerpConstants.FrameHeaderLength);
        WriteHeader(span, type, 0);
        writer.Advance(DerpConstants.FrameHeaderLength);
    }

    public static void WritePeerGone(IBufferWriter<byte> writer, in DerpPublicKey peer, PeerGoneReason reason)
    {
        var span = writer.GetSpan(DerpConstants.FrameHeaderLength + 33);
        WriteHeader(span, DerpFrameType.PeerGone, 33);
        peer.CopyTo(span[5..]);
        span[37] = (byte)reason;
        writer.Advance(DerpConstants.FrameHeaderLength + 33);
    }

    /// <summary>PeerPresent: key, 16-byte IP (IPv4 mapped into IPv6), big-endian port, flags.</summary>
    public static void WritePeerPresent(IBufferWriter<byte> writer, in DerpPublicKey peer, IPAddress? address, ushort port, PeerPresentFlags flags)
    {
        var span = writer.GetSpan(DerpConstants.FrameHeaderLength + DerpConstants.PeerPresentLength);
        WriteHeader(span, DerpFrameType.PeerPresent, DerpConstants.PeerPresentLength);
        peer.CopyTo(span[5..]);
        var ip = span.Slice(37, 16);
        ip.Clear();
        if (address is not null)
        {
            var v6 = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? address.MapToIPv6() : address;
            v6.TryWriteBytes(ip, out _);
        }
        BinaryPrimitives.WriteUInt16BigEndian(span[53..], port);
        span[55] = (byte)flags;
        writer.Advance(DerpConstants.FrameHeaderLength + DerpConstants.PeerPresentLength);
    }

    public static void WritePingOrPong(IBufferWriter<byte> writer, DerpFrameType type, ulong data)
    {
        var span = writer.GetSpan(DerpConstants.FrameHeaderLength + 8);
        WriteHeader(span, type, 8);
        BinaryPrimitives.WriteUInt64BigEndian(span[5..], data);
        writer.Advance(DerpConstants.FrameHeaderLength + 8);
    }

    public static void WriteNotePreferred(IBufferWriter<byte> writer, bool preferred)
    {
        var span = writer.GetSpan(DerpConstants.FrameHeaderLength + 1);
        WriteHeader(span, DerpFrameType.NotePreferred, 1);
        span[5] = preferred ? (byte)1 : (byte)0;
        writer.Advance(DerpConstants.FrameHeaderLength + 1);
    }

    public static void WriteClosePeer(IBufferWriter<byte> writer, in DerpPublicKey peer)
    {
        var span = writer.GetSpan(DerpConstants.FrameHeaderLength + DerpConstants.KeyLength);
        WriteHeader(span, DerpFrameType.ClosePeer, DerpConstants.KeyLength);
        peer.CopyTo(span[5..]);
        writer.Advance(DerpConstants.FrameHeaderLength + DerpConstants.KeyLength);
    }

    public static void WriteRestarting(IBufferWriter<byte> writer, uint reconnectInMs, uint tryForMs)
    {
        var span = writer.GetSpan(DerpConstants.FrameHeaderLength + 8);
        WriteHeader(span, DerpFrameType.Restarting, 8);
        BinaryPrimitives.WriteUInt32BigEndian(span[5..], reconnectInMs);
        BinaryPrimitives.WriteUInt32BigEndian(span[9..], tryForMs);
        writer.Advance(DerpConstants.FrameHeaderLength + 8);
    }
}
