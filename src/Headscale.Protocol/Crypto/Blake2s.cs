using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Macs;
using Org.BouncyCastle.Crypto.Parameters;

namespace Headscale.Protocol.Crypto;

/// <summary>BLAKE2s-256 (RFC 7693), HMAC-BLAKE2s and the Noise HKDF built on it (BouncyCastle's managed digest).</summary>
public static class Blake2s
{
    public const int HashSize = 32;

    /// <summary>BLAKE2s-256 of the concatenation of <paramref name="first"/> and <paramref name="second"/>.</summary>
    public static void Hash(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second, Span<byte> destination)
    {
        var digest = new Blake2sDigest(HashSize * 8);
        digest.BlockUpdate(first);
        digest.BlockUpdate(second);
        digest.DoFinal(destination);
    }

    public static void Hash(ReadOnlySpan<byte> data, Span<byte> destination) => Hash(data, [], destination);

    /// <summary>HMAC (RFC 2104) with BLAKE2s-256 and a 64-byte block, over <paramref name="first"/> ‖ <paramref name="second"/>.</summary>
    public static void Hmac(ReadOnlySpan<byte> key, ReadOnlySpan<byte> first, ReadOnlySpan<byte> second, Span<byte> destination)
    {
        var mac = new HMac(new Blake2sDigest(HashSize * 8));
        mac.Init(new KeyParameter(key));
        mac.BlockUpdate(first);
        mac.BlockUpdate(second);
        mac.DoFinal(destination);
    }

    /// <summary>
    /// Noise's HKDF with two outputs: <c>temp = HMAC(ck, ikm); out1 = HMAC(temp, 0x01); out2 = HMAC(temp, out1 ‖ 0x02)</c>.
    /// This equals RFC 5869 with salt = ck and empty info, truncated to 64 bytes.
    /// </summary>
    public static void Hkdf(ReadOnlySpan<byte> chainingKey, ReadOnlySpan<byte> inputKeyMaterial, Span<byte> output1, Span<byte> output2)
    {
        Span<byte> temp = stackalloc byte[HashSize];
        Span<byte> second = stackalloc byte[HashSize + 1];
        try
        {
            Hmac(chainingKey, inputKeyMaterial, [], temp);
            Hmac(temp, [0x01], [], second[..HashSize]);
            second[..HashSize].CopyTo(output1);
            second[HashSize] = 0x02;
            Hmac(temp, second, [], output2);
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(temp);
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(second);
        }
    }
}
