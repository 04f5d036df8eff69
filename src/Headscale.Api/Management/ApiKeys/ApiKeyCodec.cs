using System.Security.Cryptography;

namespace Headscale.Api.Management.ApiKeys;

/// <summary>The two text forms of an API key.</summary>
public enum ApiKeyForm
{
    /// <summary>Headscale 0.27: <c>&lt;7-char prefix&gt;.&lt;32-char secret&gt;</c>.</summary>
    Legacy,

    /// <summary>Headscale 0.28: <c>hskey-api-&lt;12-char prefix&gt;-&lt;64-char secret&gt;</c>.</summary>
    Hskey,
}

/// <summary>A key split into the part that is stored in clear (the prefix) and the secret.</summary>
public readonly record struct ParsedApiKey(string Prefix, string Secret, ApiKeyForm Form);

/// <summary>A freshly generated key; <see cref="FullKey"/> is shown to the caller once and never stored.</summary>
public sealed record GeneratedApiKey(string FullKey, string Prefix, string Secret, ApiKeyForm Form);

/// <summary>Generates and parses API keys in both forms. Pure; no storage, no hashing.</summary>
public static class ApiKeyCodec
{
    public const int LegacyPrefixLength = 7;
    public const int LegacySecretLength = 32;
    public const string HskeyMarker = "hskey-api-";
    public const int HskeyPrefixLength = 12;
    public const int HskeySecretLength = 64;

    /// <summary>How 0.28 lists a key of the hskey form: the prefix with the secret masked.</summary>
    public const string HskeyDisplaySuffix = "-***";

    private const string UrlSafeAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    // The hskey form uses '-' as separator, so its generated parts avoid '-' and '_' to stay readable.
    private const string AlphanumericAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    private static readonly int HskeyLength = HskeyMarker.Length + HskeyPrefixLength + 1 + HskeySecretLength;

    public static GeneratedApiKey Generate(ApiKeyForm form) => form switch
    {
        ApiKeyForm.Legacy => Legacy(RandomString(UrlSafeAlphabet, LegacyPrefixLength), RandomString(UrlSafeAlphabet, LegacySecretLength)),
        ApiKeyForm.Hskey => Hskey(RandomString(AlphanumericAlphabet, HskeyPrefixLength), RandomString(AlphanumericAlphabet, HskeySecretLength)),
        _ => throw new ArgumentOutOfRangeException(nameof(form), form, "unknown API key form"),
    };

    /// <summary>
    /// Splits a presented key. Anything that is not exactly one of the two forms (lengths,
    /// separators, alphabet) is refused, so malformed keys never reach the store or bcrypt.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<char> key, out ParsedApiKey parsed)
    {
        parsed = default;
        if (key.Length == LegacyPrefixLength + 1 + LegacySecretLength && key[LegacyPrefixLength] == '.')
        {
            var prefix = key[..LegacyPrefixLength];
            var secret = key[(LegacyPrefixLength + 1)..];
            if (!IsUrlSafe(prefix) || !IsUrlSafe(secret))
            {
                return false;
            }

            parsed = new ParsedApiKey(prefix.ToString(), secret.ToString(), ApiKeyForm.Legacy);
            return true;
        }

        if (key.Length == HskeyLength && key.StartsWith(HskeyMarker, StringComparison.Ordinal))
        {
            var rest = key[HskeyMarker.Length..];
            if (rest[HskeyPrefixLength] != '-')
            {
                return false;
            }

            var prefix = rest[..HskeyPrefixLength];
            var secret = rest[(HskeyPrefixLength + 1)..];
            if (!IsUrlSafe(prefix) || !IsUrlSafe(secret))
            {
                return false;
            }

            parsed = new ParsedApiKey(prefix.ToString(), secret.ToString(), ApiKeyForm.Hskey);
            return true;
        }

        return false;
    }

    /// <summary>The prefix as ListApiKeys shows it: 0.27 keys bare, hskey keys as 0.28 shows them.</summary>
    public static string DisplayPrefix(string storedPrefix) =>
        storedPrefix.Length == HskeyPrefixLength ? HskeyMarker + storedPrefix + HskeyDisplaySuffix : storedPrefix;

    /// <summary>
    /// Turns a prefix given to ExpireApiKey/DeleteApiKey into the stored prefix. Accepts the bare
    /// prefix of either form and the displayed hskey form (with or without the masked tail).
    /// </summary>
    public static bool TryNormalizePrefix(string? input, out string storedPrefix, out string error)
    {
        storedPrefix = "";
        var candidate = (input ?? "").AsSpan().Trim();
        if (candidate.StartsWith(HskeyMarker, StringComparison.Ordinal))
        {
            candidate = candidate[HskeyMarker.Length..];
            if (candidate.EndsWith(HskeyDisplaySuffix, StringComparison.Ordinal))
            {
                candidate = candidate[..^HskeyDisplaySuffix.Length];
            }

            if (candidate.Length != HskeyPrefixLength)
            {
                error = $"prefix must be {HskeyMarker}<{HskeyPrefixLength} characters>, got '{input}'";
                return false;
            }
        }

        if (candidate.Length is not (LegacyPrefixLength or HskeyPrefixLength) || !IsUrlSafe(candidate))
        {
            error = candidate.IsEmpty
                ? "prefix is required"
                : $"prefix must be {LegacyPrefixLength} or {HskeyPrefixLength} URL-safe characters, got '{input}'";
            return false;
        }

        storedPrefix = candidate.ToString();
        error = "";
        return true;
    }

    private static GeneratedApiKey Legacy(string prefix, string secret) =>
        new($"{prefix}.{secret}", prefix, secret, ApiKeyForm.Legacy);

    private static GeneratedApiKey Hskey(string prefix, string secret) =>
        new($"{HskeyMarker}{prefix}-{secret}", prefix, secret, ApiKeyForm.Hskey);

    private static string RandomString(string alphabet, int length) =>
        RandomNumberGenerator.GetString(alphabet, length);

    private static bool IsUrlSafe(ReadOnlySpan<char> value)
    {
        foreach (var c in value)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_'))
            {
                return false;
            }
        }

        return true;
    }
}
