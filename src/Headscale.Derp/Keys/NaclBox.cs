using System.Runtime.InteropServices;

namespace Headscale.Derp.Keys;

/// <summary>
/// NaCl <c>crypto_box</c> (Curve25519-XSalsa20-Poly1305) through the libsodium that NSec.Cryptography ships.
/// Box layout is libsodium "easy": 16-byte tag followed by the ciphertext, identical to Go's <c>box.Seal</c>.
/// </summary>
internal static partial class NaclBox
{
    public const int NonceLength = 24;
    public const int TagLength = 16;
    private const string Library = "libsodium";

    static NaclBox()
    {
        if (sodium_init() < 0)
            throw new InvalidOperationException("libsodium failed to initialise.");
    }

    public static void Seal(Span<byte> box, ReadOnlySpan<byte> message, ReadOnlySpan<byte> nonce,
        in DerpPublicKey recipient, DerpPrivateKey sender)
    {
        if (box.Length != message.Length + TagLength) throw new ArgumentException("Box buffer has the wrong length.", nameof(box));
        if (nonce.Length != NonceLength) throw new ArgumentException("Nonce must be 24 bytes.", nameof(nonce));
        Span<byte> recipientBytes = stackalloc byte[DerpPublicKey.Length];
        recipient.CopyTo(recipientBytes);
        if (crypto_box_easy(box, message, (ulong)message.Length, nonce, recipientBytes, sender.Bytes) != 0)
            throw new InvalidOperationException("crypto_box_easy failed.");
    }

    /// <summary>Opens a box; returns false when it was not sealed for this key pair or was modified.</summary>
    public static bool TryOpen(Span<byte> message, ReadOnlySpan<byte> box, ReadOnlySpan<byte> nonce,
        in DerpPublicKey sender, DerpPrivateKey recipient)
    {
        if (box.Length < TagLength || message.Length != box.Length - TagLength || nonce.Length != NonceLength)
            return false;
        Span<byte> senderBytes = stackalloc byte[DerpPublicKey.Length];
        sender.CopyTo(senderBytes);
        return crypto_box_open_easy(message, box, (ulong)box.Length, nonce, senderBytes, recipient.Bytes) == 0;
    }

    public static DerpPublicKey DerivePublicKey(ReadOnlySpan<byte> privateKey)
    {
        Span<byte> publicKey = stackalloc byte[DerpPublicKey.Length];
        if (crypto_scalarmult_curve25519_base(publicKey, privateKey) != 0)
            throw new ArgumentException("Invalid private key.", nameof(privateKey));
        return new DerpPublicKey(publicKey);
    }

    [LibraryImport(Library)]
    private static partial int sodium_init();

    [LibraryImport(Library)]
    private static partial int crypto_box_easy(Span<byte> c, ReadOnlySpan<byte> m, ulong mlen,
        ReadOnlySpan<byte> n, ReadOnlySpan<byte> pk, ReadOnlySpan<byte> sk);

    [LibraryImport(Library)]
    private static partial int crypto_box_open_easy(Span<byte> m, ReadOnlySpan<byte> c, ulong clen,
        ReadOnlySpan<byte> n, ReadOnlySpan<byte> pk, ReadOnlySpan<byte> sk);

    [LibraryImport(Library)]
    private static partial int crypto_scalarmult_curve25519_base(Span<byte> q, ReadOnlySpan<byte> n);
}
