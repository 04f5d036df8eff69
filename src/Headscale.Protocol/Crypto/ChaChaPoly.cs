using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Headscale.Protocol.Crypto;

/// <summary>
/// ChaCha20-Poly1305 (RFC 8439) with Tailscale's nonce: four zero bytes then a big-endian 64-bit counter.
/// Uses the platform implementation when available and NSec (libsodium) otherwise. Output layout is ciphertext ‖ tag.
/// </summary>
public sealed class ChaChaPoly : IDisposable
{
    public const int KeySize = 32;
    public const int TagSize = 16;
    public const int NonceSize = 12;

    private readonly ChaCha20Poly1305? _platform;
    private readonly NSec.Cryptography.Key? _sodium;

    public ChaChaPoly(ReadOnlySpan<byte> key)
    {
        ThrowIfNotAKey(key);
        if (ChaCha20Poly1305.IsSupported)
        {
            _platform = new ChaCha20Poly1305(key);
        }
        else
        {
            _sodium = NSec.Cryptography.Key.Import(
                NSec.Cryptography.AeadAlgorithm.ChaCha20Poly1305, key, NSec.Cryptography.KeyBlobFormat.RawSymmetricKey);
        }
    }

    /// <summary>Refuses a key of the wrong size (for holders that keep a key to make the AEAD later).</summary>
    public static void ThrowIfNotAKey(ReadOnlySpan<byte> key, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(key))] string? name = null)
    {
        if (key.Length != KeySize)
        {
            throw new ArgumentException($"ChaCha20-Poly1305 key must be {KeySize} bytes, got {key.Length}.", name);
        }
    }

    /// <summary>Writes Tailscale's transport nonce for <paramref name="counter"/> (big-endian, unlike standard Noise).</summary>
    public static void WriteNonce(ulong counter, Span<byte> nonce)
    {
        nonce[..4].Clear();
        BinaryPrimitives.WriteUInt64BigEndian(nonce[4..], counter);
    }

    /// <summary>Encrypts into <paramref name="destination"/>, which must hold plaintext length + 16 bytes.</summary>
    public void Seal(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData, Span<byte> destination)
    {
        if (_platform is not null)
        {
            _platform.Encrypt(nonce, plaintext, destination[..plaintext.Length], destination.Slice(plaintext.Length, TagSize), associatedData);
        }
        else
        {
            NSec.Cryptography.AeadAlgorithm.ChaCha20Poly1305.Encrypt(
                _sodium!, nonce, associatedData, plaintext, destination[..(plaintext.Length + TagSize)]);
        }
    }

    /// <summary>Decrypts and authenticates; returns false (and clears the output) when the tag does not match.</summary>
    public bool TryOpen(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> ciphertextAndTag, ReadOnlySpan<byte> associatedData, Span<byte> destination)
    {
        if (ciphertextAndTag.Length < TagSize)
        {
            return false;
        }

        var plaintextLength = ciphertextAndTag.Length - TagSize;
        if (_platform is not null)
        {
            try
            {
                _platform.Decrypt(
                    nonce, ciphertextAndTag[..plaintextLength], ciphertextAndTag[plaintextLength..], destination[..plaintextLength], associatedData);
                return true;
            }
            catch (AuthenticationTagMismatchException)
            {
                return false;
            }
        }

        return NSec.Cryptography.AeadAlgorithm.ChaCha20Poly1305.Decrypt(
            _sodium!, nonce, associatedData, ciphertextAndTag, destination[..plaintextLength]);
    }

    public void Dispose()
    {
        _platform?.Dispose();
        _sodium?.Dispose();
    }
}
