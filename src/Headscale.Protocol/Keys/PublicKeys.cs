using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Headscale.Protocol.Keys;

// The public key types differ only in their prefix. They are separate types so a node key can never be passed where a
// machine key is expected. Equality is constant time: keys are compared while authenticating requests.

/// <summary>Machine (Noise static) public key, text form <c>mkey:&lt;64 hex&gt;</c>.</summary>
[JsonConverter(typeof(KeyJsonConverter<MachinePublicKey>))]
public readonly struct MachinePublicKey : IEquatable<MachinePublicKey>, IKeyText<MachinePublicKey>
{
    public const string Prefix = "mkey:";
    private readonly KeyBytes _bytes;

    public MachinePublicKey(ReadOnlySpan<byte> raw) => _bytes = KeyConvert.Copy(raw);
    [UnscopedRef] public ReadOnlySpan<byte> Bytes => _bytes;
    public void CopyTo(Span<byte> destination) => ((ReadOnlySpan<byte>)_bytes).CopyTo(destination);
    public bool IsZero => KeyConvert.IsZero(_bytes);
    public static MachinePublicKey Parse(ReadOnlySpan<char> text) => new(KeyConvert.Parse(Prefix, text));
    public static bool TryParse(ReadOnlySpan<char> text, out MachinePublicKey key, out string? error) =>
        KeyConvert.TryParse(Prefix, text, out key, out error, static raw => new MachinePublicKey(raw));
    public override string ToString() => KeyText.Format(Prefix, _bytes);
    public bool Equals(MachinePublicKey other) => CryptographicOperations.FixedTimeEquals(_bytes, other._bytes);
    public override bool Equals(object? obj) => obj is MachinePublicKey other && Equals(other);
    public override int GetHashCode() => KeyConvert.Hash(_bytes);
    public static bool operator ==(MachinePublicKey left, MachinePublicKey right) => left.Equals(right);
    public static bool operator !=(MachinePublicKey left, MachinePublicKey right) => !left.Equals(right);
}

/// <summary>Node (WireGuard) public key, text form <c>nodekey:&lt;64 hex&gt;</c>.</summary>
[JsonConverter(typeof(KeyJsonConverter<NodePublicKey>))]
public readonly struct NodePublicKey : IEquatable<NodePublicKey>, IKeyText<NodePublicKey>
{
    public const string Prefix = "nodekey:";
    private readonly KeyBytes _bytes;

    public NodePublicKey(ReadOnlySpan<byte> raw) => _bytes = KeyConvert.Copy(raw);
    [UnscopedRef] public ReadOnlySpan<byte> Bytes => _bytes;
    public void CopyTo(Span<byte> destination) => ((ReadOnlySpan<byte>)_bytes).CopyTo(destination);
    public bool IsZero => KeyConvert.IsZero(_bytes);
    public static NodePublicKey Parse(ReadOnlySpan<char> text) => new(KeyConvert.Parse(Prefix, text));
    public static bool TryParse(ReadOnlySpan<char> text, out NodePublicKey key, out string? error) =>
        KeyConvert.TryParse(Prefix, text, out key, out error, static raw => new NodePublicKey(raw));
    public override string ToString() => KeyText.Format(Prefix, _bytes);
    public bool Equals(NodePublicKey other) => CryptographicOperations.FixedTimeEquals(_bytes, other._bytes);
    public override bool Equals(object? obj) => obj is NodePublicKey other && Equals(other);
    public override int GetHashCode() => KeyConvert.Hash(_bytes);
    public static bool operator ==(NodePublicKey left, NodePublicKey right) => left.Equals(right);
    public static bool operator !=(NodePublicKey left, NodePublicKey right) => !left.Equals(right);
}

/// <summary>Disco public key, text form <c>discokey:&lt;64 hex&gt;</c>.</summary>
[JsonConverter(typeof(KeyJsonConverter<DiscoPublicKey>))]
public readonly struct DiscoPublicKey : IEquatable<DiscoPublicKey>, IKeyText<DiscoPublicKey>
{
    public const string Prefix = "discokey:";
    private readonly KeyBytes _bytes;

    public DiscoPublicKey(ReadOnlySpan<byte> raw) => _bytes = KeyConvert.Copy(raw);
    [UnscopedRef] public ReadOnlySpan<byte> Bytes => _bytes;
    public void CopyTo(Span<byte> destination) => ((ReadOnlySpan<byte>)_bytes).CopyTo(destination);
    public bool IsZero => KeyConvert.IsZero(_bytes);
    public static DiscoPublicKey Parse(ReadOnlySpan<char> text) => new(KeyConvert.Parse(Prefix, text));
    public static bool TryParse(ReadOnlySpan<char> text, out DiscoPublicKey key, out string? error) =>
        KeyConvert.TryParse(Prefix, text, out key, out error, static raw => new DiscoPublicKey(raw));
    public override string ToString() => KeyText.Format(Prefix, _bytes);
    public bool Equals(DiscoPublicKey other) => CryptographicOperations.FixedTimeEquals(_bytes, other._bytes);
    public override bool Equals(object? obj) => obj is DiscoPublicKey other && Equals(other);
    public override int GetHashCode() => KeyConvert.Hash(_bytes);
    public static bool operator ==(DiscoPublicKey left, DiscoPublicKey right) => left.Equals(right);
    public static bool operator !=(DiscoPublicKey left, DiscoPublicKey right) => !left.Equals(right);
}

/// <summary>Challenge public key sent in the early payload, text form <c>chalpub:&lt;64 hex&gt;</c>.</summary>
[JsonConverter(typeof(KeyJsonConverter<ChallengePublicKey>))]
public readonly struct ChallengePublicKey : IEquatable<ChallengePublicKey>, IKeyText<ChallengePublicKey>
{
    public const string Prefix = "chalpub:";
    private readonly KeyBytes _bytes;

    public ChallengePublicKey(ReadOnlySpan<byte> raw) => _bytes = KeyConvert.Copy(raw);
    [UnscopedRef] public ReadOnlySpan<byte> Bytes => _bytes;
    public void CopyTo(Span<byte> destination) => ((ReadOnlySpan<byte>)_bytes).CopyTo(destination);
    public bool IsZero => KeyConvert.IsZero(_bytes);
    public static ChallengePublicKey Parse(ReadOnlySpan<char> text) => new(KeyConvert.Parse(Prefix, text));
    public static bool TryParse(ReadOnlySpan<char> text, out ChallengePublicKey key, out string? error) =>
        KeyConvert.TryParse(Prefix, text, out key, out error, static raw => new ChallengePublicKey(raw));
    public override string ToString() => KeyText.Format(Prefix, _bytes);
    public bool Equals(ChallengePublicKey other) => CryptographicOperations.FixedTimeEquals(_bytes, other._bytes);
    public override bool Equals(object? obj) => obj is ChallengePublicKey other && Equals(other);
    public override int GetHashCode() => KeyConvert.Hash(_bytes);
    public static bool operator ==(ChallengePublicKey left, ChallengePublicKey right) => left.Equals(right);
    public static bool operator !=(ChallengePublicKey left, ChallengePublicKey right) => !left.Equals(right);
}

/// <summary>Implemented by every key type that has a text form; lets one JSON converter serve them all.</summary>
public interface IKeyText<TSelf> where TSelf : struct
{
    static abstract bool TryParse(ReadOnlySpan<char> text, out TSelf key, out string? error);
}

/// <summary>Reads and writes a key as its JSON string text form; a malformed key is a <see cref="JsonException"/> naming the problem.</summary>
public sealed class KeyJsonConverter<TKey> : JsonConverter<TKey> where TKey : struct, IKeyText<TKey>
{
    private const int MaxTextLength = 128;

    public override TKey Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException($"{typeof(TKey).Name} must be a JSON string, got {reader.TokenType}.");
        }

        var encodedLength = reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length;
        if (encodedLength > MaxTextLength)
        {
            throw new JsonException($"{typeof(TKey).Name} text is {encodedLength} bytes long; no key is longer than {MaxTextLength}.");
        }

        Span<char> buffer = stackalloc char[MaxTextLength];
        var length = reader.CopyString(buffer);
        return TKey.TryParse(buffer[..length], out var key, out var error) ? key : throw new JsonException(error);
    }

    public override void Write(Utf8JsonWriter writer, TKey value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.ToString());
}

internal static class KeyConvert
{
    public static KeyBytes Copy(ReadOnlySpan<byte> raw)
    {
        if (raw.Length != KeyText.RawLength)
        {
            throw new ArgumentException($"A key must be {KeyText.RawLength} bytes, got {raw.Length}.", nameof(raw));
        }

        var bytes = default(KeyBytes);
        raw.CopyTo(bytes);
        return bytes;
    }

    public static byte[] Parse(string prefix, ReadOnlySpan<char> text)
    {
        var raw = new byte[KeyText.RawLength];
        KeyText.ParseOrThrow(prefix, text, raw);
        return raw;
    }

    public static bool TryParse<TKey>(
        string prefix, ReadOnlySpan<char> text, out TKey key, out string? error, Func<byte[], TKey> create)
        where TKey : struct
    {
        var raw = new byte[KeyText.RawLength];
        if (KeyText.TryParse(prefix, text, raw, out error))
        {
            key = create(raw);
            return true;
        }

        key = default;
        return false;
    }

    public static bool IsZero(ReadOnlySpan<byte> bytes) => !bytes.ContainsAnyExcept((byte)0);

    // Keys are uniformly random, so the first eight bytes are a good hash and reveal nothing a timing attacker can use.
    public static int Hash(ReadOnlySpan<byte> bytes) => BitConverter.ToInt32(bytes);
}
