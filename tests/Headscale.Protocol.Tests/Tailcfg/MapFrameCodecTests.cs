using System.Buffers;
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
}
