namespace Headscale.Protocol.Http2;

/// <summary>
/// A stateless HPACK encoder (RFC 7541): it never adds to the peer's dynamic table and never Huffman-codes, so a
/// response costs no per-connection state. It uses the static table where that is free (indexed :status, indexed
/// names) and otherwise literals without indexing (§6.2.2).
/// </summary>
public static class HpackEncoder
{
    private const int StatusNameIndex = 8;

    /// <summary>
    /// :status as an indexed static entry when there is one (200,204,206,304,400,404,500), else literal without
    /// indexing with indexed name (static index 8); returns bytes written, false if dest too small.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The status is not a three-digit code.</exception>
    public static bool TryEncodeStatus(int status, Span<byte> destination, out int written)
    {
        written = 0;
        var index = status switch
        {
            200 => 8,
            204 => 9,
            206 => 10,
            304 => 11,
            400 => 12,
            404 => 13,
            500 => 14,
            _ => 0,
        };
        if (index != 0)
        {
            if (destination.IsEmpty)
            {
                return false;
            }

            destination[0] = (byte)(0x80 | index);
            written = 1;
            return true;
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(status, 100);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(status, 999);
        if (destination.Length < 5)
        {
            return false;
        }

        destination[0] = StatusNameIndex; // 0000 prefix, 4-bit name index 8
        destination[1] = 3;              // not Huffman, 3 bytes
        destination[2] = (byte)('0' + status / 100);
        destination[3] = (byte)('0' + status / 10 % 10);
        destination[4] = (byte)('0' + status % 10);
        written = 5;
        return true;
    }

    /// <summary>A header as literal without indexing, new name (name must be lowercase ASCII), no Huffman.</summary>
    /// <exception cref="ArgumentException">The name is empty or not lowercase ASCII, or the value has a byte HTTP/2
    /// forbids (NUL, CR, LF) or a character above U+00FF.</exception>
    public static bool TryEncodeLiteral(
        ReadOnlySpan<char> name, ReadOnlySpan<char> value, Span<byte> destination, out int written) =>
        TryEncode(0, name, value, destination, out written);

    /// <summary>
    /// Same for request pseudo/regular headers, used by test clients: literal without indexing, using the static
    /// table's name index when the name is in it.
    /// </summary>
    public static bool TryEncodeHeader(
        ReadOnlySpan<char> name, ReadOnlySpan<char> value, Span<byte> destination, out int written) =>
        TryEncode(HpackStaticTable.IndexOfName(name), name, value, destination, out written);

    private static bool TryEncode(
        int nameIndex, ReadOnlySpan<char> name, ReadOnlySpan<char> value, Span<byte> destination, out int written)
    {
        ValidateName(name);
        ValidateValue(value);
        written = 0;
        var position = 0;
        if (!TryWriteInteger(nameIndex, 4, 0x00, destination, ref position))
        {
            return false;
        }

        if (nameIndex == 0 && !TryWriteString(name, destination, ref position))
        {
            return false;
        }

        if (!TryWriteString(value, destination, ref position))
        {
            return false;
        }

        written = position;
        return true;
    }

    private static bool TryWriteString(ReadOnlySpan<char> text, Span<byte> destination, ref int position)
    {
        if (!TryWriteInteger(text.Length, 7, 0x00, destination, ref position) ||
            text.Length > destination.Length - position)
        {
            return false;
        }

        for (var i = 0; i < text.Length; i++)
        {
            destination[position + i] = (byte)text[i];
        }

        position += text.Length;
        return true;
    }

    /// <summary>Writes an integer with an N-bit prefix (§5.1); <paramref name="pattern"/> fills the high bits.</summary>
    internal static bool TryWriteInteger(int value, int prefixBits, byte pattern, Span<byte> destination, ref int position)
    {
        var mask = (1 << prefixBits) - 1;
        if (position >= destination.Length)
        {
            return false;
        }

        if (value < mask)
        {
            destination[position++] = (byte)(pattern | value);
            return true;
        }

        var at = position;
        destination[at++] = (byte)(pattern | mask);
        var rest = (uint)(value - mask);
        while (rest >= 0x80)
        {
            if (at >= destination.Length)
            {
                return false;
            }

            destination[at++] = (byte)(rest | 0x80);
            rest >>= 7;
        }

        if (at >= destination.Length)
        {
            return false;
        }

        destination[at++] = (byte)rest;
        position = at;
        return true;
    }

    private static void ValidateName(ReadOnlySpan<char> name)
    {
        if (name.IsEmpty)
        {
            throw new ArgumentException("header name is empty", nameof(name));
        }

        foreach (var c in name)
        {
            if (c <= ' ' || c >= 0x7F || c is >= 'A' and <= 'Z')
            {
                throw new ArgumentException($"header name '{name}' is not lowercase ASCII", nameof(name));
            }
        }
    }

    private static void ValidateValue(ReadOnlySpan<char> value)
    {
        foreach (var c in value)
        {
            if (c is '\0' or '\r' or '\n' || c > 0xFF)
            {
                throw new ArgumentException("header value has NUL, CR, LF or a character above U+00FF", nameof(value));
            }
        }
    }
}
