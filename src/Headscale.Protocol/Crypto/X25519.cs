using NSec.Cryptography;

namespace Headscale.Protocol.Crypto;

/// <summary>X25519 (RFC 7748) on raw 32-byte keys, backed by libsodium through NSec.</summary>
public static class X25519
{
    public const int KeySize = 32;

    private static readonly KeyAgreementAlgorithm Algorithm = KeyAgreementAlgorithm.X25519;

    /// <summary>Generates a random private key, clamped as Tailscale does before storing it.</summary>
    public static void GeneratePrivateKey(Span<byte> privateKey)
    {
        System.Security.Cryptography.RandomNumberGenerator.Fill(privateKey[..KeySize]);
        privateKey[0] &= 248;
        privateKey[31] = (byte)((privateKey[31] & 127) | 64);
    }

    /// <summary>Computes the public key of <paramref name="privateKey"/> (scalar multiplication by the base point).</summary>
    public static void DerivePublicKey(ReadOnlySpan<byte> privateKey, Span<byte> publicKey)
    {
        using var key = ImportPrivate(privateKey);
        if (!key.PublicKey.TryExport(KeyBlobFormat.RawPublicKey, publicKey, out var written) || written != KeySize)
        {
            throw new InvalidOperationException("X25519 public key export failed.");
        }
    }

    /// <summary>
    /// Computes the shared secret. Returns false when the peer key is a low-order point (all-zero output), which the
    /// Noise handshake must treat as a failure.
    /// </summary>
    public static bool TryAgree(ReadOnlySpan<byte> privateKey, ReadOnlySpan<byte> peerPublicKey, Span<byte> sharedSecret)
    {
        using var key = ImportPrivate(privateKey);
        return TryAgree(key, peerPublicKey, sharedSecret);
    }

    internal static Key ImportPrivate(ReadOnlySpan<byte> privateKey) =>
        Key.Import(Algorithm, privateKey[..KeySize], KeyBlobFormat.RawPrivateKey, new KeyCreationParameters
        {
            ExportPolicy = KeyExportPolicies.AllowPlaintextExport,
        });

    internal static bool TryAgree(Key key, ReadOnlySpan<byte> peerPublicKey, Span<byte> sharedSecret)
    {
        if (!PublicKey.TryImport(Algorithm, peerPublicKey, KeyBlobFormat.RawPublicKey, out var peer) || peer is null)
        {
            return false;
        }

        using var secret = Algorithm.Agree(key, peer, new SharedSecretCreationParameters
        {
            ExportPolicy = KeyExportPolicies.AllowPlaintextExport,
        });
        if (secret is null)
        {
            return false;
        }

        var raw = secret.Export(SharedSecretBlobFormat.RawSharedSecret);
        try
        {
            raw.CopyTo(sharedSecret);
            return raw.Length == KeySize;
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(raw);
        }
    }
}
