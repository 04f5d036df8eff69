using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Headscale.Protocol.Tailcfg;
using Xunit;

namespace Headscale.Protocol.Tests.Tailcfg;

public sealed class MapFrameCodecTests
{
    [Fact]
    public void Plain_frames_have_a_little_endian_length_prefix()
    {
        var frame = MapFrameCodec.Encode(MapResponse.KeepAliveMessage, zstd: false);

        Assert.Equal(new byte[] { 18, 0, 0, 0 }, frame[..4]);
        Assert.Equal("""{"KeepAlive":true}""", Encoding.UTF8.GetString(frame.AsSpan(4)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Frames_round_trip_and_partial_input_waits_for_more(bool zstd)
    {
        var first = MapFrameCodec.Encode(MapResponse.KeepAliveMessage, zstd);
        var second = MapFrameCodec.Encode(new MapResponse { Domain = "tail.example.com" }, zstd);
        var stream = first.Concat(second).ToArray();

        var partial = new ReadOnlySequence<byte>(stream, 0, first.Length - 1);
        Assert.False(MapFrameCodec.TryReadFrame(ref partial, zstd, out _));

        var all = new ReadOnlySequence<byte>(stream);
        Assert.True(MapFrameCodec.TryReadFrame(ref all, zstd, out var a));
        Assert.True(MapFrameCodec.TryReadFrame(ref all, zstd, out var b));
        Assert.Equal(0, all.Length);
        Assert.Equal("""{"KeepAlive":true}""", Encoding.UTF8.GetString(a));
        Assert.Equal("""{"Domain":"tail.example.com"}""", Encoding.UTF8.GetString(b));
    }

    [Fact]
    public void Zstd_frames_are_smaller_for_repetitive_maps()
    {
        var big = new MapResponse { Domain = new string('a', 10_000) };

        Assert.True(MapFrameCodec.Encode(big, zstd: true).Length < MapFrameCodec.Encode(big, zstd: false).Length / 10);
    }

    [Fact]
    public void Frames_compressed_on_many_threads_at_once_each_decode_to_their_own_message()
    {
        var decoded = new string[64];
        Parallel.For(0, decoded.Length, i =>
        {
            var frame = MapFrameCodec.Encode(new MapResponse { Domain = $"tail-{i}." + new string('x', 5_000 + i) }, zstd: true);
            var sequence = new ReadOnlySequence<byte>(frame);
            Assert.True(MapFrameCodec.TryReadFrame(ref sequence, zstd: true, out var json));
            decoded[i] = System.Text.Json.JsonDocument.Parse(json).RootElement.GetProperty("Domain").GetString()!;
        });

        for (var i = 0; i < decoded.Length; i++)
        {
            Assert.StartsWith($"tail-{i}.", decoded[i], StringComparison.Ordinal);
            Assert.Equal(5_000 + i + $"tail-{i}.".Length, decoded[i].Length);
        }
    }

    [Fact]
    public void An_absurd_length_prefix_is_rejected()
    {
        var bad = new ReadOnlySequence<byte>(new byte[] { 0xFF, 0xFF, 0xFF, 0x7F, 1, 2 });

        Assert.Throws<InvalidDataException>(() => MapFrameCodec.TryReadFrame(ref bad, zstd: false, out _));
    }

    [Fact]
    public void A_compressed_frame_that_would_decompress_past_the_limit_is_refused_before_it_is_decoded()
    {
        // 64 KiB of zeros compress to a few dozen bytes, well within any limit on the frame itself.
        var bomb = new ReadOnlySequence<byte>(MapFrameCodec.Frame(new byte[64 * 1024], zstd: true));

        var refused = Assert.Throws<InvalidDataException>(() => MapFrameCodec.TryReadFrame(ref bomb, zstd: true, out _, maxJsonBytes: 4096));

        Assert.Contains("at most 4096 bytes", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_body_that_is_not_zstd_is_refused_as_invalid_data()
    {
        var frame = new byte[4 + 16];
        BinaryPrimitives.WriteUInt32LittleEndian(frame, 16);
        "not a zstd frame"u8.CopyTo(frame.AsSpan(4));
        var garbage = new ReadOnlySequence<byte>(frame);

        Assert.Throws<InvalidDataException>(() => MapFrameCodec.TryReadFrame(ref garbage, zstd: true, out _));
    }

    [Fact]
    public void A_plain_frame_larger_than_the_limit_is_refused()
    {
        var frame = new ReadOnlySequence<byte>(MapFrameCodec.Frame(new byte[100], zstd: false));

        Assert.Throws<InvalidDataException>(() => MapFrameCodec.TryReadFrame(ref frame, zstd: false, out _, maxJsonBytes: 64));
    }

    [Fact]
    public void Taking_a_frame_leaves_its_body_undecoded_and_the_rest_of_the_buffer_in_place()
    {
        var first = MapFrameCodec.Frame("{\"A\":1}"u8, zstd: true);
        var second = MapFrameCodec.Frame("{\"B\":2}"u8, zstd: false);
        var buffer = new ReadOnlySequence<byte>([.. first, .. second[..3]]);

        Assert.True(MapFrameCodec.TryTakeFrame(ref buffer, out var body));
        Assert.Equal(first.AsSpan(4).ToArray(), body.ToArray());
        Assert.False(MapFrameCodec.TryTakeFrame(ref buffer, out _));
        Assert.Equal(3, buffer.Length);
    }
}
