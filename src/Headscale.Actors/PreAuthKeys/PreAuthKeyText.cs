using System.Security.Cryptography;

namespace Headscale.Actors.PreAuthKeys;

/// <summary>
/// The two text forms of a pre-auth key: Headscale 0.28's <c>hskey-auth-{12-char prefix}-{64-char secret}</c>
/// (the store keeps the prefix and a bcrypt hash of the secret) and 0.27's 48 hex digits (kept in
/// plaintext, found by equality).
/// </summary>
public static class PreAuthKeyText
{
    public const string NewFormPrefix = "hskey-auth-";
    public const int PrefixLength = 12;
    public const int SecretLength = 64;
    public const int LegacyLength = 48;

    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    /// <summary>Splits a key as the client sent it; false when it is in neither form.</summary>
    public static bool TryParse(string? text, out string prefix, out string secret, out string legacy)
    {
        prefix = secret = legacy = "";
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        if (text.Length == LegacyLength && text.All(char.IsAsciiHexDigit))
        {
            legacy = text;
            return true;
        }

        if (text.Length != NewFormPrefix.Length + PrefixLength + 1 + SecretLength
            || !text.StartsWith(NewFormPrefix, StringComparison.Ordinal)
            || text[NewFormPrefix.Length + PrefixLength] != '-')
        {
            return false;
        }

        var p = text.AsSpan(NewFormPrefix.Length, PrefixLength);
        var s = text.AsSpan(NewFormPrefix.Length + PrefixLength + 1);
        if (!IsAlphabet(p) || !IsAlphabet(s))
        {
            return false;
        }

        prefix = p.ToString();
        secret = s.ToString();
        return true;
    }

    /// <summary>A fresh 0.28-form key: (prefix, secret, full text).</summary>
    public static (string Prefix, string Secret, string Full) Generate()
    {
        var prefix = RandomNumberGenerator.GetString(Alphabet, PrefixLength);
        var secret = RandomNumberGenerator.GetString(Alphabet, SecretLength);
        return (prefix, secret, $"{NewFormPrefix}{prefix}-{secret}");
    }

    /// <summary>A fresh 0.27-form key (48 lower-case hex digits), for imports and tests.</summary>
    public static string GenerateLegacy() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(LegacyLength / 2));

    /// <summary>How listings show a key: the full legacy key (as 0.27 did) or the prefix with the secret masked.</summary>
    public static string Display(string prefix, string legacy) =>
        legacy.Length > 0 ? legacy : $"{NewFormPrefix}{prefix}-***";

    private static bool IsAlphabet(ReadOnlySpan<char> chars)
    {
        foreach (var c in chars)
        {
            if (!char.IsAsciiLetterOrDigit(c))
            {
                return false;
            }
        }

        return true;
    }
}
