using System.Security.Cryptography;
using System.Text;
using Headscale.Protocol.Crypto;

namespace Headscale.Protocol.Noise;

/// <summary>
/// Noise's SymmetricState for Noise_IK_25519_ChaChaPoly_BLAKE2s. Each handshake cipher key is used exactly once with the
/// all-zero nonce, so no CipherState counter is kept.
/// </summary>
internal sealed class SymmetricState : IDisposable
{
    public const string ProtocolName = "Noise_IK_25519_ChaChaPoly_BLAKE2s";

    private static readonly byte[] InitialHash = ComputeInitialHash();

    private readonly byte[] _hash = new byte[Blake2s.HashSize];
    private readonly byte[] _chainingKey = new byte[Blake2s.HashSize];
    private readonly byte[] _key = new byte[ChaChaPoly.KeySize];

    public SymmetricState(ushort protocolVersion, ReadOnlySpan<byte> responderStaticPublic)
    {
        InitialHash.CopyTo(_hash, 0);
        InitialHash.CopyTo(_chainingKey, 0);
        MixHash(NoiseMessages.Prologue(protocolVersion));
        MixHash(responderStaticPublic);
    }

    public ReadOnlySpan<byte> Hash => _hash;

    public void MixHash(ReadOnlySpan<byte> data) => Blake2s.Hash(_hash, data, _hash);

    /// <summary>DH, then HKDF into a new chaining key and cipher key. False if the DH result is all zero (low-order point).</summary>
    public bool MixDh(ReadOnlySpan<byte> privateKey, ReadOnlySpan<byte> publicKey)
    {
        Span<byte> shared = stackalloc byte[X25519.KeySize];
        try
        {
            if (!X25519.TryAgree(privateKey, publicKey, shared))
            {
                return false;
            }

            Blake2s.Hkdf(_chainingKey, shared, _chainingKey, _key);
            return true;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(shared);
        }
    }

    public void EncryptAndHash(ReadOnlySpan<byte> plaintext, Span<byte> destination)
    {
        Span<byte> nonce = stackalloc byte[ChaChaPoly.NonceSize];
        nonce.Clear();
        using (var aead = new ChaChaPoly(_key))
        {
            aead.Seal(nonce, plaintext, _hash, destination);
        }

        MixHash(destination[..(plaintext.Length + ChaChaPoly.TagSize)]);
    }

    public bool DecryptAndHash(ReadOnlySpan<byte> ciphertext, Span<byte> destination)
    {
        Span<byte> nonce = stackalloc byte[ChaChaPoly.NonceSize];
        nonce.Clear();
        using (var aead = new ChaChaPoly(_key))
        {
            if (!aead.TryOpen(nonce, ciphertext, _hash, destination))
            {
                return false;
            }
        }

        MixHash(ciphertext);
        return true;
    }

    /// <summary>Split: the initiator-to-responder key and the responder-to-initiator key.</summary>
    public (byte[] InitiatorToResponder, byte[] ResponderToInitiator) Split()
    {
        var k1 = new byte[ChaChaPoly.KeySize];
        var k2 = new byte[ChaChaPoly.KeySize];
        Blake2s.Hkdf(_chainingKey, [], k1, k2);
        return (k1, k2);
    }

    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(_chainingKey);
        CryptographicOperations.ZeroMemory(_key);
    }

    private static byte[] ComputeInitialHash()
    {
        var hash = new byte[Blake2s.HashSize];
        Blake2s.Hash(Encoding.ASCII.GetBytes(ProtocolName), hash);
        return hash;
    }
}
