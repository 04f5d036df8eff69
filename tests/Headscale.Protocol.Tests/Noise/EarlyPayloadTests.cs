using System.Buffers;
using Headscale.Protocol.Keys;
using Headscale.Protocol.Noise;

namespace Headscale.Protocol.Tests.Noise;

public sealed class EarlyPayloadTests
{
    [Fact]
    public void Header_is_magic_and_big_endian_length_of_the_95_byte_json()
    {
        var challenge = ChallengePublicKey.Parse("chalpub:" + new string('a', 64));
        var writer = new ArrayBufferWriter<byte>();

        EarlyPayload.Write(writer, new EarlyNoise(challenge));

        Assert.Equal("ffffff54530000005f", Convert.ToHexStringLower(writer.WrittenSpan[..9]));
        Assert.Equal("{\"nodeKeyChallenge\":\"chalpub:" + new string('a', 64) + "\"}", System.Text.Encoding.UTF8.GetString(writer.WrittenSpan[9..]));
        var buffer = new ReadOnlySequence<byte>(writer.WrittenMemory);
        Assert.True(EarlyPayload.IsEarlyPayload(buffer));
        Assert.True(EarlyPayload.TryRead(ref buffer, out var payload));
        Assert.Equal(challenge, payload!.NodeKeyChallenge);
    }

    [Fact]
    public void Http2_frame_header_is_not_an_early_payload()
    {
        Assert.False(EarlyPayload.IsEarlyPayload(new ReadOnlySequence<byte>(new byte[] { 0, 0, 0x12, 4, 0, 0, 0, 0, 0 })));
    }

    [Fact]
    public void Oversized_or_malformed_payloads_are_refused()
    {
        var huge = new ReadOnlySequence<byte>(new byte[] { 0xff, 0xff, 0xff, 0x54, 0x53, 0x01, 0, 0, 0 });
        Assert.Throws<NoiseProtocolException>(() => EarlyPayload.TryRead(ref huge, out _));

        var bad = new ReadOnlySequence<byte>(new byte[] { 0xff, 0xff, 0xff, 0x54, 0x53, 0, 0, 0, 2, (byte)'{', (byte)'x' });
        Assert.Throws<NoiseProtocolException>(() => EarlyPayload.TryRead(ref bad, out _));
    }
}
