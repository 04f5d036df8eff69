using System.Runtime.CompilerServices;

namespace Headscale.Protocol.Keys;

/// <summary>
/// Text form shared by every 32-byte key: a fixed ASCII prefix followed by 64 hex digits.
/// Parsing accepts either case and requires the exact prefix and length; formatting is always lower case.
/// </summary>
public static class KeyText
{
    public const int RawLength = 32;
    public const int HexLength = RawLength * 2;

    public static string Format(string prefix, ReadOnlySpan<byte> raw)
    {
        if (raw.Length != RawLength)
        {
            throw new ArgumentException($"A key must be {RawLength} bytes, got {raw.Length}.", nameof(raw));
        }

        return string.Concat(prefix, Convert.ToHexStringLower(raw));
    }

    /// <summary>Parses <paramref name="text"/> into <paramref name="destination"/>; returns a message naming the problem on failure.</summary>
    public static bool TryParse(string prefix, ReadOnlySpan<char> text, Span<byte> destination, out string? error)
    {
        if (!text.StartsWith(prefix, StringComparison.Ordinal))
        {
            error = $"key must start with \"{prefix}\"";
            return false;
        }

        var hex = text[prefix.Length..];
        if (hex.Length != HexLength)
        {
            error = $"key \"{prefix}…\" must have exactly {HexLength} hex digits, got {hex.Length}";
            return false;
        }

        if (Convert.FromHexString(hex, destination[..RawLength], out _, out _) != System.Buffers.OperationStatus.Done)
        {
            error = $"key \"{prefix}…\" contains a character that is not a hex digit";
            return false;
        }

        error = null;
        return true;
    }

    internal static void ParseOrThrow(string prefix, ReadOnlySpan<char> text, Span<byte> destination)
    {
        if (!TryParse(prefix, text, destination, out var error))
        {
            throw new FormatException(error);
        }
    }
}

[InlineArray(KeyText.RawLength)]
internal struct KeyBytes
{
    private byte _first;
}
