using System.Buffers;
using System.Net;
using Headscale.Derp.Keys;
using Headscale.Derp.Protocol;

namespace Headscale.Derp.Tests;

public sealed class FrameCodecTests
{
    private static readonly DerpPublicKey KeyA = DerpPrivateKey.Generate().PublicKey;
    private static readonly DerpPublicKey KeyB = DerpPrivateKey.Generate().PublicKey;

    [Fact]
    public void Keep_alive_and_send_packet_headers_match_the_spec_examples()
    {
        var writer = new ArrayBufferWriter<byte>();
        DerpFrameWriter.WriteEmpty(writer, DerpFrameType.KeepAlive);
        Assert.Equal(new byte[] { 0x06, 0, 0, 0, 0 }, writer.WrittenSpan.ToArray());

        writer.Clear();
        DerpFrameWriter.WriteKeyAndPacket(writer, DerpFrameType.SendPacket, KeyA, new byte[1024 - 32]);
        Assert.Equal(new byte[] { 0x04, 0, 0, 4, 0 }, writer.WrittenSpan[..5].ToArray());
    }

    [Fact]
    public void Server_key_frame_starts_with_the_magic_and_round_trips()
    {
        var writer = new ArrayBufferWriter<byte>();
        DerpFrameWriter.WriteServerKey(writer, KeyA);
        var buffer = new ReadOnlySequence<byte>(writer.WrittenMemory);
        Assert.True(DerpFrameReader.TryReadFrame(ref buffer, 1 << 20, out var type, out var payload));
        Assert.Equal(DerpFrameType.ServerKey, type);
        Assert.Equal("DERP🔑"u8.ToArray(), payload.Slice(0, 8).ToArray());
        Assert.Equal(KeyA, DerpHandshake.ReadServerKey(payload));
        Assert.True(buffer.IsEmpty);
    }

    [Fact]
    public void Every_frame_kind_round_trips()
    {
        var writer = new ArrayBufferWriter<byte>();
        DerpFrameWriter.WriteKeyAndPacket(writer, DerpFrameType.RecvPacket, KeyA, "hello"u8);
        DerpFrameWriter.WriteForwardPacket(writer, KeyA, KeyB, "fwd"u8);
        DerpFrameWriter.WritePeerGone(writer, KeyB, PeerGoneReason.NotHere);
        DerpFrameWriter.WritePeerPresent(writer, KeyA, IPAddress.Parse("192.0.2.7"), 4242, PeerPresentFlags.MeshPeer);
        DerpFrameWriter.WritePingOrPong(writer, DerpFrameType.Ping, 0x0102030405060708);
        DerpFrameWriter.WriteNotePreferred(writer, true);
        DerpFrameWriter.WriteClosePeer(writer, KeyB);
        DerpFrameWriter.WriteRestarting(writer, 1000, 2000);

        var buffer = new ReadOnlySequence<byte>(writer.WrittenMemory);
        var frames = new List<(DerpFrameType, byte[])>();
        while (DerpFrameReader.TryReadFrame(ref buffer, 1 << 20, out var type, out var payload)) frames.Add((type, payload.ToArray()));
        Assert.True(buffer.IsEmpty);

        Assert.Equal(DerpFrameType.RecvPacket, frames[0].Item1);
        Assert.Equal(KeyA, DerpPublicKey.Read(frames[0].Item2));
        Assert.Equal("hello"u8.ToArray(), frames[0].Item2[32..]);

        Assert.Equal(DerpFrameType.ForwardPacket, frames[1].Item1);
        Assert.Equal(KeyB, DerpPublicKey.Read(frames[1].Item2.AsSpan(32)));
        Assert.Equal("fwd"u8.ToArray(), frames[1].Item2[64..]);

        Assert.Equal([.. KeyB.ToArray(), (byte)1], frames[2].Item2);

        var present = frames[3].Item2;
        Assert.Equal(DerpConstants.PeerPresentLength, present.Length);
        Assert.Equal(IPAddress.Parse("::ffff:192.0.2.7"), new IPAddress(present.AsSpan(32, 16)));
        Assert.Equal(new byte[] { 0x10, 0x92, 0x02 }, present[48..]);

        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }, frames[4].Item2);
        Assert.Equal(new byte[] { 1 }, frames[5].Item2);
        Assert.Equal(KeyB.ToArray(), frames[6].Item2);
        Assert.Equal(new byte[] { 0, 0, 0x03, 0xe8, 0, 0, 0x07, 0xd0 }, frames[7].Item2);
    }

    [Fact]
    public void A_frame_split_at_every_byte_is_read_only_when_complete()
    {
        var writer = new ArrayBufferWriter<byte>();
        DerpFrameWriter.WriteKeyAndPacket(writer, DerpFrameType.SendPacket, KeyB, Enumerable.Range(0, 100).Select(i => (byte)i).ToArray());
        var bytes = writer.WrittenSpan.ToArray();

        for (var cut = 0; cut <= bytes.Length; cut++)
        {
            var prefix = new ReadOnlySequence<byte>(bytes, 0, cut);
            var before = prefix;
            var complete = DerpFrameReader.TryReadFrame(ref prefix, 1 << 20, out _, out _);
            Assert.Equal(cut == bytes.Length, complete);
            if (!complete) Assert.Equal(before, prefix);

            // The whole frame split into two segments at the cut parses to the same payload.
            var split = TwoSegments(bytes, cut);
            Assert.True(DerpFrameReader.TryReadFrame(ref split, 1 << 20, out var type, out var payload));
            Assert.Equal(DerpFrameType.SendPacket, type);
            Assert.Equal(KeyB, DerpFrameReader.ReadKey(payload, 0));
            Assert.Equal(bytes[37..], payload.Slice(32).ToArray());
        }
    }

    [Fact]
    public void An_oversized_length_is_a_protocol_error_naming_the_limit()
    {
        var bytes = new byte[] { 0x04, 0x7f, 0xff, 0xff, 0xff };
        var buffer = new ReadOnlySequence<byte>(bytes);
        var error = Assert.Throws<DerpProtocolException>(() => DerpFrameReader.TryReadFrame(ref buffer, DerpConstants.MaxSteadyStateFrameLength, out _, out _));
        Assert.Contains("limit", error.Message);
        Assert.Contains(DerpConstants.MaxSteadyStateFrameLength.ToString(), error.Message);
    }

    [Fact]
    public void Unknown_frame_types_are_returned_so_the_caller_can_skip_them()
    {
        var bytes = new byte[] { 0x7e, 0, 0, 0, 2, 0xaa, 0xbb, 0x06, 0, 0, 0, 0 };
        var buffer = new ReadOnlySequence<byte>(bytes);
        Assert.True(DerpFrameReader.TryReadFrame(ref buffer, 100, out var type, out var payload));
        Assert.Equal((DerpFrameType)0x7e, type);
        Assert.Equal(2, payload.Length);
        Assert.True(DerpFrameReader.TryReadFrame(ref buffer, 100, out type, out _));
        Assert.Equal(DerpFrameType.KeepAlive, type);
    }

    [Fact]
    public void Reading_and_writing_packets_does_not_allocate()
    {
        var writer = new ArrayBufferWriter<byte>(4096);
        var packet = new byte[1400];
        DerpFrameWriter.WriteKeyAndPacket(writer, DerpFrameType.SendPacket, KeyA, packet);
        var frame = writer.WrittenMemory.ToArray();
        writer.Clear();

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            var buffer = new ReadOnlySequence<byte>(frame);
            DerpFrameReader.TryReadFrame(ref buffer, DerpConstants.MaxSteadyStateFrameLength, out _, out var payload);
            var key = DerpFrameReader.ReadKey(payload, 0);
            writer.Clear();
            DerpFrameWriter.WriteKeyAndPacket(writer, DerpFrameType.RecvPacket, key, payload.Slice(32).FirstSpan);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static ReadOnlySequence<byte> TwoSegments(byte[] bytes, int cut)
    {
        var first = new Segment(bytes.AsMemory(0, cut), 0);
        var last = first.Append(bytes.AsMemory(cut));
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
