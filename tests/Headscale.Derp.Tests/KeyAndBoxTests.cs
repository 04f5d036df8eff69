using System.Buffers;
using Headscale.Derp.Keys;
using Headscale.Derp.Protocol;

namespace Headscale.Derp.Tests;

public sealed class KeyAndBoxTests
{
    [Fact]
    public void Public_key_text_round_trips_with_and_without_prefix()
    {
        var key = DerpPrivateKey.Generate().PublicKey;
        var text = key.ToString();
        Assert.StartsWith("nodekey:", text);
        Assert.Equal(72, text.Length);
        Assert.Equal(key, DerpPublicKey.Parse(text));
        Assert.Equal(key, DerpPublicKey.Parse(key.ToHex()));
        Assert.Equal(key, new DerpPublicKey(key.ToArray()));
    }

    [Theory]
    [InlineData("")]
    [InlineData("nodekey:1234")]
    [InlineData("nodekey:zz00000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("mkey:0000000000000000000000000000000000000000000000000000000000000000")]
    public void Malformed_public_keys_are_rejected(string text)
    {
        Assert.False(DerpPublicKey.TryParse(text, out _));
        Assert.Throws<FormatException>(() => DerpPublicKey.Parse(text));
    }

    [Fact]
    public void Private_key_text_round_trips_and_derives_the_same_public_key()
    {
        var key = DerpPrivateKey.Generate();
        var parsed = DerpPrivateKey.Parse(key.ToText());
        Assert.Equal(key.PublicKey, parsed.PublicKey);
        Assert.Throws<FormatException>(() => DerpPrivateKey.Parse("privkey:abcd"));
        Assert.Throws<FormatException>(() => DerpPrivateKey.Parse(key.ToText().Replace("privkey:", "nodekey:")));
    }

    [Fact]
    public void Private_key_file_is_created_once_and_reloaded()
    {
        var path = Path.Combine(Path.GetTempPath(), $"derp-key-{Guid.NewGuid():N}", "derp.key");
        var created = DerpPrivateKey.LoadOrCreate(path);
        var loaded = DerpPrivateKey.LoadOrCreate(path);
        Assert.Equal(created.PublicKey, loaded.PublicKey);
        Assert.StartsWith("privkey:", File.ReadAllText(path));
        Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
    }

    [Fact]
    public void Client_info_box_opens_only_with_the_server_key()
    {
        var server = DerpPrivateKey.Generate();
        var client = DerpPrivateKey.Generate();
        var writer = new ArrayBufferWriter<byte>();
        DerpHandshake.WriteClientInfo(writer, client, server.PublicKey, new DerpClientInfo { Version = 2, CanAckPings = true, MeshKey = new string('a', 64) });
        var buffer = new ReadOnlySequence<byte>(writer.WrittenMemory);
        Assert.True(DerpFrameReader.TryReadFrame(ref buffer, 1 << 20, out var type, out var payload));
        Assert.Equal(DerpFrameType.ClientInfo, type);

        var (key, info) = DerpHandshake.ReadClientInfo(payload, server);
        Assert.Equal(client.PublicKey, key);
        Assert.Equal(2, info.Version);
        Assert.True(info.CanAckPings);
        Assert.Equal(new string('a', 64), info.MeshKey);

        var wrongServer = DerpPrivateKey.Generate();
        Assert.Throws<DerpProtocolException>(() => DerpHandshake.ReadClientInfo(payload, wrongServer));

        var tampered = payload.ToArray();
        tampered[^1] ^= 1;
        Assert.Throws<DerpProtocolException>(() => DerpHandshake.ReadClientInfo(new ReadOnlySequence<byte>(tampered), server));
    }

    [Fact]
    public void Client_info_json_uses_the_wire_casing()
    {
        var json = System.Text.Json.JsonSerializer.Serialize(new DerpClientInfo { Version = 2, CanAckPings = true }, DerpJsonContext.Default.DerpClientInfo);
        Assert.Equal("""{"version":2,"CanAckPings":true}""", json);
    }

    [Fact]
    public void Server_info_round_trips()
    {
        var server = DerpPrivateKey.Generate();
        var client = DerpPrivateKey.Generate();
        var writer = new ArrayBufferWriter<byte>();
        DerpHandshake.WriteServerInfo(writer, server, client.PublicKey, new DerpServerInfo { Version = 2 });
        var buffer = new ReadOnlySequence<byte>(writer.WrittenMemory);
        Assert.True(DerpFrameReader.TryReadFrame(ref buffer, 1 << 20, out _, out var payload));
        Assert.Equal(2, DerpHandshake.ReadServerInfo(payload, client, server.PublicKey).Version);
        Assert.Throws<DerpProtocolException>(() => DerpHandshake.ReadServerInfo(payload, DerpPrivateKey.Generate(), server.PublicKey));
    }
}
