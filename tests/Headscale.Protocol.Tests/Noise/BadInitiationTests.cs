using Headscale.Protocol.Keys;
using Headscale.Protocol.Noise;

namespace Headscale.Protocol.Tests.Noise;

public sealed class BadInitiationTests
{
    private static readonly MachinePrivateKey Server = HandshakeTranscriptTests.ServerKey;

    [Theory]
    [InlineData(0)]
    [InlineData(100)]
    [InlineData(102)]
    public void Wrong_size_gets_the_size_error(int size)
    {
        var result = NoiseHandshake.Respond(new byte[size], Server, new byte[NoiseMessages.ResponseSize]);

        Assert.Equal(InitiationFailure.WrongSize, result.Failure);
        Assert.Equal("wrong handshake initiation size", result.ErrorMessageText);
    }

    [Fact]
    public void Wrong_type_gets_the_type_error()
    {
        var initiation = Convert.FromHexString(HandshakeTranscriptTests.Initiation);
        initiation[2] = 2;

        var result = NoiseHandshake.Respond(initiation, Server, new byte[NoiseMessages.ResponseSize]);

        Assert.Equal(InitiationFailure.WrongType, result.Failure);
        Assert.Equal("unexpected handshake message type", result.ErrorMessageText);
    }

    [Fact]
    public void Wrong_length_field_gets_the_length_error()
    {
        var initiation = Convert.FromHexString(HandshakeTranscriptTests.Initiation);
        initiation[4] = 0x61;

        var result = NoiseHandshake.Respond(initiation, Server, new byte[NoiseMessages.ResponseSize]);

        Assert.Equal(InitiationFailure.WrongLength, result.Failure);
        Assert.Equal("wrong handshake initiation length", result.ErrorMessageText);
    }

    [Theory]
    [InlineData(10)]
    [InlineData(50)]
    [InlineData(90)]
    [InlineData(1)]
    public void Garbled_bytes_fail_authentication_without_an_error_message(int offset)
    {
        var initiation = Convert.FromHexString(HandshakeTranscriptTests.Initiation);
        initiation[offset] ^= 0x40;

        var result = NoiseHandshake.Respond(initiation, Server, new byte[NoiseMessages.ResponseSize]);

        Assert.Equal(InitiationFailure.AuthenticationFailed, result.Failure);
        Assert.Null(result.ErrorMessageText);
    }

    [Fact]
    public void Initiation_for_another_server_key_fails_authentication()
    {
        var result = NoiseHandshake.Respond(
            Convert.FromHexString(HandshakeTranscriptTests.Initiation), MachinePrivateKey.Generate(), new byte[NoiseMessages.ResponseSize]);

        Assert.Equal(InitiationFailure.AuthenticationFailed, result.Failure);
    }

    [Fact]
    public void Client_surfaces_the_server_error_text()
    {
        var initiation = new byte[NoiseMessages.InitiationSize];
        using var initiator = NoiseHandshake.Initiate(142, MachinePrivateKey.Generate(), Server.PublicKey, initiation);

        var error = Assert.Throws<NoiseProtocolException>(
            () => initiator.Complete(NoiseMessages.CreateErrorMessage("wrong handshake initiation size")));

        Assert.Equal("server error: \"wrong handshake initiation size\"", error.Message);
    }

    [Fact]
    public void Error_message_layout_is_type_three_and_big_endian_length()
    {
        Assert.Equal("030003616263", Convert.ToHexStringLower(NoiseMessages.CreateErrorMessage("abc")));
    }
}
