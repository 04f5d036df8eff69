using Headscale.Protocol.Keys;
using Headscale.Protocol.Noise;

namespace Headscale.Protocol.Tests.Noise;

/// <summary>The fixed-key ts2021 transcript B2 of test-vectors.md, from both sides.</summary>
public sealed class HandshakeTranscriptTests
{
    internal static readonly MachinePrivateKey ServerKey = new(Fill(0x11));
    internal static readonly MachinePrivateKey ClientKey = new(Fill(0x22));
    private static readonly byte[] ClientEphemeral = Fill(0x33);
    private static readonly byte[] ServerEphemeral = Fill(0x44);

    internal const string Initiation =
        "008e0100607b0d47d93427f8311160781c7c733fd89f88970aef490d8aa0ee19a4cb8a1b14b903b541e3810f9a9f788541f1d8f2ec482568e39b9f0f56a9f4a7a56450f31ab4c5678f0c008256de661c690c1caddc24caa259f478fd74d10e5da0d80ff0a5";

    private const string Response =
        "020030ff2ee45601ec1b67310c7790404585ae697331eee1c1f8cf2419731c1fff3e6b11f4588df06ce534304fd041775738e3";

    private const string K1 = "97bb1ff1b3c0030ed1e8f7d54ad3728ad885ba618751ae88d5a752c3c5f31027";
    private const string K2 = "67e4e0ae881d024a7aef742740ca594e486443a61ac5362959c6b1350e8e5ab0";
    private const string HandshakeHash = "c10119e29abbbd6bd7d22590833904cc3ed0ae151c5d41e9661c88d8e568251f";

    [Fact]
    public void Static_keys_match_the_vector()
    {
        Assert.Equal("mkey:7b4e909bbe7ffe44c465a220037d608ee35897d31ef972f07f74892cb0f73f13", ServerKey.PublicKey.ToString());
        Assert.Equal("mkey:0faa684ed28867b97f4a6a2dee5df8ce974e76b7018e3f22a1c4cf2678570f20", ClientKey.PublicKey.ToString());
    }

    [Fact]
    public void Client_produces_the_exact_initiation_and_header_value()
    {
        var initiation = new byte[NoiseMessages.InitiationSize];
        using var initiator = NoiseHandshake.Initiate(142, ClientKey, ServerKey.PublicKey, initiation, ClientEphemeral);

        Assert.Equal(Initiation, Convert.ToHexStringLower(initiation));
        var header = Convert.ToBase64String(initiation);
        Assert.Equal(136, header.Length);
        Assert.Equal(
            "AI4BAGB7DUfZNCf4MRFgeBx8cz/Yn4iXCu9JDYqg7hmky4obFLkDtUHjgQ+an3iFQfHY8uxIJWjjm58PVqn0p6VkUPMatMVnjwwAglbeZhxpDByt3CTKoln0eP100Q5doNgP8KU=",
            header);

        var keys = initiator.Complete(Convert.FromHexString(Response));
        Assert.Equal(K1, Convert.ToHexStringLower(keys.SendKey.Span));
        Assert.Equal(K2, Convert.ToHexStringLower(keys.ReceiveKey.Span));
        Assert.Equal(HandshakeHash, Convert.ToHexStringLower(keys.HandshakeHash.Span));
        Assert.Equal(ServerKey.PublicKey, keys.PeerStaticKey);
    }

    [Fact]
    public void Server_produces_the_exact_response_keys_and_client_identity()
    {
        var response = new byte[NoiseMessages.ResponseSize];
        var result = NoiseHandshake.Respond(Convert.FromHexString(Initiation), ServerKey, response, ServerEphemeral);

        Assert.True(result.Succeeded);
        Assert.Equal(Response, Convert.ToHexStringLower(response));
        Assert.Equal(142, result.ProtocolVersion);
        var keys = result.Keys!;
        Assert.Equal(K2, Convert.ToHexStringLower(keys.SendKey.Span));
        Assert.Equal(K1, Convert.ToHexStringLower(keys.ReceiveKey.Span));
        Assert.Equal(HandshakeHash, Convert.ToHexStringLower(keys.HandshakeHash.Span));
        Assert.Equal("mkey:0faa684ed28867b97f4a6a2dee5df8ce974e76b7018e3f22a1c4cf2678570f20", keys.PeerStaticKey.ToString());
    }

    [Fact]
    public void Transport_records_match_the_vector_and_use_a_big_endian_nonce()
    {
        using var clientSend = new NoiseRecordCipher(Convert.FromHexString(K1));
        using var serverSend = new NoiseRecordCipher(Convert.FromHexString(K2));
        var record = new byte[24];

        clientSend.Seal("hello"u8, record);
        Assert.Equal("04001514a9f922c148802d01a653ad5bc589a481c5458acc", Convert.ToHexStringLower(record));
        clientSend.Seal("hello"u8, record);
        Assert.Equal("0400152383fda3ae9709b771c7e70e177f2d20b9151658f9", Convert.ToHexStringLower(record));
        Assert.NotEqual("0400157c3f0eef1468a3ae45b76513efe5c12b70c87e7bf9", Convert.ToHexStringLower(record));
        serverSend.Seal("hello"u8, record);
        Assert.Equal("0400159f21fcc5ff6d62c30f202a451b042053172347c44a", Convert.ToHexStringLower(record));
    }

    [Fact]
    public void Server_decrypts_the_vector_client_records_in_order()
    {
        using var serverReceive = new NoiseRecordCipher(Convert.FromHexString(K1));
        var plaintext = new byte[5];

        Assert.True(serverReceive.TryOpen(Convert.FromHexString("14a9f922c148802d01a653ad5bc589a481c5458acc"), plaintext));
        Assert.Equal("hello"u8.ToArray(), plaintext);
        Assert.True(serverReceive.TryOpen(Convert.FromHexString("2383fda3ae9709b771c7e70e177f2d20b9151658f9"), plaintext));
        Assert.Equal("hello"u8.ToArray(), plaintext);
    }

    [Fact]
    public void Random_keys_agree_end_to_end()
    {
        var server = MachinePrivateKey.Generate();
        var client = MachinePrivateKey.Generate();
        var initiation = new byte[NoiseMessages.InitiationSize];
        var response = new byte[NoiseMessages.ResponseSize];

        using var initiator = NoiseHandshake.Initiate(7, client, server.PublicKey, initiation);
        var result = NoiseHandshake.Respond(initiation, server, response);
        var clientKeys = initiator.Complete(response);

        Assert.Equal(7, result.ProtocolVersion);
        Assert.Equal(clientKeys.SendKey.ToArray(), result.Keys!.ReceiveKey.ToArray());
        Assert.Equal(clientKeys.HandshakeHash.ToArray(), result.Keys.HandshakeHash.ToArray());
        Assert.Equal(client.PublicKey, result.Keys.PeerStaticKey);
    }

    internal static byte[] Fill(byte value) => Enumerable.Repeat(value, 32).ToArray();
}
