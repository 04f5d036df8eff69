using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;

namespace Headscale.Derp.Keys;

/// <summary>
/// A 32-byte Curve25519 public key as DERP uses it: node keys of clients and the server's own key.
/// Stored as four machine words so that equality and hashing on the packet path are a few instructions.
/// Text form is <c>nodekey:&lt;64 lower-case hex&gt;</c>.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public readonly struct DerpPublicKey : IEquatable<DerpPublicKey>
{
    public const int Length = 32;
    public const string TextPrefix = "nodekey:";

    private readonly ulong _w0, _w1, _w2, _w3;

    public DerpPublicKey(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length)
            throw new ArgumentException($"A public key is {Length} bytes, got {bytes.Length}.", nameof(bytes));
        _w0 = MemoryMarshal.Read<ulong>(bytes);
        _w1 = MemoryMarshal.Read<ulong>(bytes[8..]);
        _w2 = MemoryMarshal.Read<ulong>(bytes[16..]);
        _w3 = MemoryMarshal.Read<ulong>(bytes[24..]);
    }

    /// <summary>Reads a key from the first 32 bytes of <paramref name="source"/>.</summary>
    public static DerpPublicKey Read(ReadOnlySpan<byte> source) => new(source[..Length]);

    public bool IsZero => (_w0 | _w1 | _w2 | _w3) == 0;

    public void CopyTo(Span<byte> destination)
    {
        MemoryMarshal.Write(destination, in _w0);
        MemoryMarshal.Write(destination[8..], in _w1);
        MemoryMarshal.Write(destination[16..], in _w2);
        MemoryMarshal.Write(destination[24..], in _w3);
    }

    public byte[] ToArray()
    {
        var bytes = new byte[Length];
        CopyTo(bytes);
        return bytes;
    }

    /// <summary>64 lower-case hex characters, without prefix.</summary>
    public string ToHex()
    {
        Span<byte> bytes = stackalloc byte[Length];
        CopyTo(bytes);
        return Convert.ToHexStringLower(bytes);
    }

    public override string ToString() => TextPrefix + ToHex();

    /// <summary>Short form for logs: the first 8 hex characters in brackets, like Tailscale's ShortString.</summary>
    public string ToShortString() => "[" + ToHex()[..8] + "]";

    /// <summary>Parses <c>nodekey:&lt;hex&gt;</c> or bare 64-character hex.</summary>
    public static DerpPublicKey Parse(string text)
    {
        if (!TryParse(text, out var key))
            throw new FormatException($"'{text}' is not a public key: expected '{TextPrefix}' followed by 64 hex characters.");
        return key;
    }

    public static bool TryParse([NotNullWhen(true)] string? text, out DerpPublicKey key)
    {
        key = default;
        if (text is null) return false;
        var span = text.AsSpan().Trim();
        if (span.StartsWith(TextPrefix, StringComparison.Ordinal)) span = span[TextPrefix.Length..];
        if (span.Length != Length * 2) return false;
        Span<byte> bytes = stackalloc byte[Length];
        if (Convert.FromHexString(span, bytes, out _, out var written) != System.Buffers.OperationStatus.Done || written != Length)
            return false;
        key = new DerpPublicKey(bytes);
        return true;
    }

    public bool Equals(DerpPublicKey other) =>
        _w0 == other._w0 && _w1 == other._w1 && _w2 == other._w2 && _w3 == other._w3;

    public override bool Equals(object? obj) => obj is DerpPublicKey other && Equals(other);

    // Keys are uniformly random, so one word is already a good hash.
    public override int GetHashCode() => (int)(_w0 ^ (_w0 >> 32));

    public static bool operator ==(DerpPublicKey left, DerpPublicKey right) => left.Equals(right);
    public static bool operator !=(DerpPublicKey left, DerpPublicKey right) => !left.Equals(right);

    internal ulong FirstWordBigEndian() => BinaryPrimitives.ReverseEndianness(_w0);
}
