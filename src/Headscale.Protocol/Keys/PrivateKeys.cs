using System.Security.Cryptography;
using Headscale.Protocol.Crypto;

namespace Headscale.Protocol.Keys;

/// <summary>
/// Machine private key (X25519), text form <c>privkey:&lt;64 hex&gt;</c>. The control server's Noise key and every client's
/// machine identity are of this type. <see cref="ToString"/> never reveals the key; use <see cref="ToPrivateText"/> to persist it.
/// </summary>
public sealed class MachinePrivateKey : IEquatable<MachinePrivateKey>
{
    public const string Prefix = "privkey:";

    private readonly byte[] _bytes;
    private readonly Lazy<MachinePublicKey> _publicKey;

    public MachinePrivateKey(ReadOnlySpan<byte> raw)
    {
        if (raw.Length != KeyText.RawLength)
        {
            throw new ArgumentException($"A private key must be {KeyText.RawLength} bytes, got {raw.Length}.", nameof(raw));
        }

        _bytes = raw.ToArray();
        _publicKey = new Lazy<MachinePublicKey>(ComputePublicKey);
    }

    public static MachinePrivateKey Generate()
    {
        Span<byte> raw = stackalloc byte[KeyText.RawLength];
        X25519.GeneratePrivateKey(raw);
        var key = new MachinePrivateKey(raw);
        CryptographicOperations.ZeroMemory(raw);
        return key;
    }

    public static MachinePrivateKey Parse(ReadOnlySpan<char> text)
    {
        Span<byte> raw = stackalloc byte[KeyText.RawLength];
        KeyText.ParseOrThrow(Prefix, text, raw);
        return new MachinePrivateKey(raw);
    }

    public static bool TryParse(ReadOnlySpan<char> text, out MachinePrivateKey? key, out string? error)
    {
        Span<byte> raw = stackalloc byte[KeyText.RawLength];
        key = KeyText.TryParse(Prefix, text, raw, out error) ? new MachinePrivateKey(raw) : null;
        return key is not null;
    }

    public MachinePublicKey PublicKey => _publicKey.Value;

    public bool IsZero => !_bytes.AsSpan().ContainsAnyExcept((byte)0);

    internal ReadOnlySpan<byte> Bytes => _bytes;

    /// <summary>The secret text form, <c>privkey:&lt;64 hex&gt;</c>, for storing the key.</summary>
    public string ToPrivateText() => KeyText.Format(Prefix, _bytes);

    public override string ToString() => $"privkey:[{PublicKey}]";

    public bool Equals(MachinePrivateKey? other) => other is not null && CryptographicOperations.FixedTimeEquals(_bytes, other._bytes);

    public override bool Equals(object? obj) => Equals(obj as MachinePrivateKey);

    public override int GetHashCode() => PublicKey.GetHashCode();

    private MachinePublicKey ComputePublicKey()
    {
        Span<byte> pub = stackalloc byte[KeyText.RawLength];
        X25519.DerivePublicKey(_bytes, pub);
        return new MachinePublicKey(pub);
    }
}
