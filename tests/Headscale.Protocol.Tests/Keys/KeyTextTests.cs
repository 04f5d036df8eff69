using System.Text.Json;
using Headscale.Protocol.Keys;

namespace Headscale.Protocol.Tests.Keys;

public sealed class KeyTextTests
{
    private const string Hex = "50d20b455ecf12bc453f83c2cfdb2a24925d06cf2598dcaa54e91af82ce9f765";
    private const string PrivateText = "privkey:40ab1b58e9076c7a4d9d07291f5edf9d1aa017eb949624ba683317f48a640369";

    [Fact]
    public void Public_key_text_forms_round_trip_exactly()
    {
        Assert.Equal("nodekey:" + Hex, NodePublicKey.Parse("nodekey:" + Hex).ToString());
        Assert.Equal("mkey:" + Hex, MachinePublicKey.Parse("mkey:" + Hex).ToString());
        Assert.Equal("discokey:" + Hex, DiscoPublicKey.Parse("discokey:" + Hex).ToString());
        Assert.Equal("chalpub:" + Hex, ChallengePublicKey.Parse("chalpub:" + Hex).ToString());
    }

    [Fact]
    public void Private_key_round_trips_and_derives_the_vector_public_key()
    {
        var key = MachinePrivateKey.Parse(PrivateText);

        Assert.Equal(PrivateText, key.ToPrivateText());
        Assert.Equal("mkey:" + Hex, key.PublicKey.ToString());
        Assert.DoesNotContain("40ab1b58", key.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Upper_case_hex_is_accepted_and_printed_lower_case()
    {
        Assert.Equal("mkey:" + Hex, MachinePublicKey.Parse("mkey:" + Hex.ToUpperInvariant()).ToString());
    }

    [Fact]
    public void Zero_key_prints_sixty_four_zeros()
    {
        Assert.Equal("mkey:" + new string('0', 64), default(MachinePublicKey).ToString());
        Assert.True(default(NodePublicKey).IsZero);
    }

    [Theory]
    [InlineData("nodekey:" + Hex, "must start with \"mkey:\"")]
    [InlineData("mkey:" + "50d2", "exactly 64 hex digits, got 4")]
    [InlineData("mkey:" + Hex + "0", "exactly 64 hex digits, got 65")]
    [InlineData("mkey:zz" + "d20b455ecf12bc453f83c2cfdb2a24925d06cf2598dcaa54e91af82ce9f765", "not a hex digit")]
    [InlineData("", "must start with")]
    public void Malformed_text_is_refused_with_a_reason(string text, string expected)
    {
        Assert.False(MachinePublicKey.TryParse(text, out _, out var error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
        var thrown = Assert.Throws<FormatException>(() => MachinePublicKey.Parse(text));
        Assert.Contains(expected, thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Private_key_with_wrong_prefix_is_refused()
    {
        Assert.False(MachinePrivateKey.TryParse("mkey:" + Hex, out var key, out var error));
        Assert.Null(key);
        Assert.Contains("privkey:", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Equality_compares_bytes_and_type_safety_keeps_kinds_apart()
    {
        var a = MachinePublicKey.Parse("mkey:" + Hex);
        var b = MachinePublicKey.Parse("mkey:" + Hex.ToUpperInvariant());
        var c = MachinePrivateKey.Generate().PublicKey;

        Assert.True(a == b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.True(a != c);
        Assert.False(a.Equals(NodePublicKey.Parse("nodekey:" + Hex)));
    }

    [Fact]
    public void Json_uses_the_text_form_and_names_bad_input()
    {
        var json = JsonSerializer.Serialize(new KeyHolder(NodePublicKey.Parse("nodekey:" + Hex)));
        Assert.Equal("{\"Key\":\"nodekey:" + Hex + "\"}", json);
        Assert.Equal(NodePublicKey.Parse("nodekey:" + Hex), JsonSerializer.Deserialize<KeyHolder>(json)!.Key);

        var error = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<KeyHolder>("{\"Key\":\"mkey:" + Hex + "\"}"));
        Assert.Contains("nodekey:", error.Message, StringComparison.Ordinal);
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<KeyHolder>("{\"Key\":42}"));
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<KeyHolder>("{\"Key\":\"" + new string('a', 500) + "\"}"));
    }

    [Fact]
    public void Generated_keys_are_clamped_and_distinct()
    {
        var first = MachinePrivateKey.Generate();
        var second = MachinePrivateKey.Generate();
        var raw = Convert.FromHexString(first.ToPrivateText()["privkey:".Length..]);

        Assert.NotEqual(first, second);
        Assert.Equal(0, raw[0] & 7);
        Assert.Equal(64, raw[31] & 192);
    }

    private sealed record KeyHolder(NodePublicKey Key);
}
