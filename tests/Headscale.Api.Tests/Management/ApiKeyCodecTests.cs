using Headscale.Api.Management.ApiKeys;
using Xunit;

namespace Headscale.Api.Tests.Management;

public sealed class ApiKeyCodecTests
{
    [Fact]
    public void Legacy_key_is_7_char_prefix_dot_32_char_url_safe_secret_and_parses_back()
    {
        var key = ApiKeyCodec.Generate(ApiKeyForm.Legacy);

        Assert.Matches("^[A-Za-z0-9_-]{7}\\.[A-Za-z0-9_-]{32}$", key.FullKey);
        Assert.True(ApiKeyCodec.TryParse(key.FullKey, out var parsed));
        Assert.Equal(new ParsedApiKey(key.Prefix, key.Secret, ApiKeyForm.Legacy), parsed);
    }

    [Fact]
    public void Hskey_key_is_marker_12_char_prefix_and_64_char_secret_and_parses_back()
    {
        var key = ApiKeyCodec.Generate(ApiKeyForm.Hskey);

        Assert.Matches("^hskey-api-[A-Za-z0-9]{12}-[A-Za-z0-9]{64}$", key.FullKey);
        Assert.True(ApiKeyCodec.TryParse(key.FullKey, out var parsed));
        Assert.Equal(new ParsedApiKey(key.Prefix, key.Secret, ApiKeyForm.Hskey), parsed);
    }

    [Fact]
    public void Generated_keys_differ()
    {
        var keys = Enumerable.Range(0, 50).Select(_ => ApiKeyCodec.Generate(ApiKeyForm.Legacy).FullKey).ToHashSet();

        Assert.Equal(50, keys.Count);
    }

    [Theory]
    [InlineData("")]
    [InlineData("abcdefg")]
    [InlineData("abcdefg.")]
    [InlineData("abcdefg.0123456789012345678901234567890")] // secret 31
    [InlineData("abcdefg.012345678901234567890123456789012")] // secret 33
    [InlineData("abcdef.01234567890123456789012345678901x")] // prefix 6
    [InlineData("abcdefg:01234567890123456789012345678901")] // wrong separator
    [InlineData("abc+efg.01234567890123456789012345678901")] // not URL-safe
    [InlineData("abcdefg.0123456789012345678901234567890=")]
    [InlineData("hskey-api-abcdefghijkl-0123456789012345678901234567890123456789012345678901234567890")] // secret 63
    [InlineData("hskey-api-abcdefghijk-01234567890123456789012345678901234567890123456789012345678901234")] // prefix 11
    [InlineData("hskey-api-abcdefghijkl_0123456789012345678901234567890123456789012345678901234567890123")] // separator
    [InlineData("hskey-auth-abcdefghijk-0123456789012345678901234567890123456789012345678901234567890123")] // pre-auth key
    [InlineData("hskey-api-abcdefghijkl-012345678901234567890123456789012345678901234567890123456789012é")]
    public void Malformed_keys_are_refused(string key)
    {
        Assert.False(ApiKeyCodec.TryParse(key, out _));
    }

    [Theory]
    [InlineData("abcdefg", "abcdefg")]
    [InlineData(" abcdefg ", "abcdefg")]
    [InlineData("abcdefghijkl", "abcdefghijkl")]
    [InlineData("hskey-api-abcdefghijkl", "abcdefghijkl")]
    [InlineData("hskey-api-abcdefghijkl-***", "abcdefghijkl")]
    public void Prefix_is_accepted_bare_or_as_displayed(string input, string stored)
    {
        Assert.True(ApiKeyCodec.TryNormalizePrefix(input, out var prefix, out var error), error);
        Assert.Equal(stored, prefix);
    }

    [Theory]
    [InlineData(null, "prefix is required")]
    [InlineData("", "prefix is required")]
    [InlineData("abc", "prefix must be 7 or 12 URL-safe characters, got 'abc'")]
    [InlineData("abc.efg", "prefix must be 7 or 12 URL-safe characters, got 'abc.efg'")]
    [InlineData("hskey-api-abc-***", "prefix must be hskey-api-<12 characters>, got 'hskey-api-abc-***'")]
    public void Bad_prefix_is_refused_with_a_message_naming_it(string? input, string message)
    {
        Assert.False(ApiKeyCodec.TryNormalizePrefix(input, out _, out var error));
        Assert.Equal(message, error);
    }

    [Fact]
    public void Hskey_prefix_is_displayed_as_0_28_lists_it_and_legacy_prefix_bare()
    {
        Assert.Equal("hskey-api-abcdefghijkl-***", ApiKeyCodec.DisplayPrefix("abcdefghijkl"));
        Assert.Equal("abcdefg", ApiKeyCodec.DisplayPrefix("abcdefg"));
    }

    [Fact]
    public void Hash_is_bcrypt_of_the_secret_and_verifies_only_that_secret()
    {
        var key = ApiKeyCodec.Generate(ApiKeyForm.Legacy);

        var hash = ApiKeyHasher.Hash(key.Secret);

        Assert.StartsWith("$2", hash, StringComparison.Ordinal);
        Assert.DoesNotContain(key.Secret, hash, StringComparison.Ordinal);
        Assert.Contains($"${ApiKeyHasher.WorkFactor}$", hash, StringComparison.Ordinal);
        Assert.True(ApiKeyHasher.Verify(key.Secret, hash));
        // Change the last character (to something else than it is: a random secret may end in 'x').
        Assert.False(ApiKeyHasher.Verify(key.Secret[..^1] + (key.Secret[^1] == 'x' ? "y" : "x"), hash));
        Assert.False(ApiKeyHasher.Verify(key.FullKey, hash));
    }

    [Fact]
    public void Hash_written_by_go_bcrypt_with_2a_prefix_verifies()
    {
        // $2a$ hashes (what Go's bcrypt writes) must verify, so keys can be migrated from Headscale.
        var hash = BCrypt.Net.BCrypt.HashPassword("0123456789abcdef0123456789abcdef", BCrypt.Net.BCrypt.GenerateSalt(4, 'a'));

        Assert.StartsWith("$2a$", hash, StringComparison.Ordinal);
        Assert.True(ApiKeyHasher.Verify("0123456789abcdef0123456789abcdef", hash));
    }

    [Theory]
    [InlineData("")]
    [InlineData("not-a-hash")]
    [InlineData("$2a$10$short")]
    public void Corrupt_stored_hash_never_verifies(string hash)
    {
        Assert.False(ApiKeyHasher.Verify("0123456789abcdef0123456789abcdef", hash));
    }
}
