using System.Text;
using Headscale.Protocol.Crypto;

namespace Headscale.Protocol.Tests.Crypto;

/// <summary>Known-answer vectors A1–A3 and B1 of test-vectors.md.</summary>
public sealed class CryptoVectorTests
{
    [Fact]
    public void Blake2s_matches_rfc7693()
    {
        Assert.Equal("508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982", HashHex("abc"u8));
        Assert.Equal("69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9", HashHex([]));
    }

    [Fact]
    public void Initial_noise_hash_and_prologue_hash_match_b1()
    {
        var h = new byte[32];
        Blake2s.Hash("Noise_IK_25519_ChaChaPoly_BLAKE2s"u8, h);
        Assert.Equal("bbea022b948cf3bc5857d70804229179e1116bc40cb8cc074835349c464bca36", Convert.ToHexStringLower(h));

        Blake2s.Hash(h, "Tailscale Control Protocol v142"u8, h);
        Assert.Equal("c52f25caacc9227b0245d6ec35f380c0ec47dd4e297e257dd5952253759b4ea7", Convert.ToHexStringLower(h));
    }

    [Fact]
    public void X25519_matches_rfc7748()
    {
        var alicePrivate = Convert.FromHexString("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
        var bobPrivate = Convert.FromHexString("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
        var alicePublic = new byte[32];
        var bobPublic = new byte[32];
        var shared = new byte[32];

        X25519.DerivePublicKey(alicePrivate, alicePublic);
        X25519.DerivePublicKey(bobPrivate, bobPublic);
        Assert.Equal("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", Convert.ToHexStringLower(alicePublic));
        Assert.Equal("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f", Convert.ToHexStringLower(bobPublic));

        Assert.True(X25519.TryAgree(alicePrivate, bobPublic, shared));
        Assert.Equal("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742", Convert.ToHexStringLower(shared));
    }

    [Fact]
    public void X25519_refuses_a_low_order_point()
    {
        var shared = new byte[32];
        Assert.False(X25519.TryAgree(new byte[32] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32 }, new byte[32], shared));
    }

    [Fact]
    public void ChaCha20Poly1305_matches_rfc8439()
    {
        var key = Convert.FromHexString("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
        var nonce = Convert.FromHexString("070000004041424344454647");
        var aad = Convert.FromHexString("50515253c0c1c2c3c4c5c6c7");
        var plaintext = Encoding.ASCII.GetBytes(
            "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.");
        var sealedBytes = new byte[plaintext.Length + 16];
        using var aead = new ChaChaPoly(key);

        aead.Seal(nonce, plaintext, aad, sealedBytes);

        Assert.Equal(
            "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116"
            + "1ae10b594f09e26a7e902ecbd0600691",
            Convert.ToHexStringLower(sealedBytes));
        var opened = new byte[plaintext.Length];
        Assert.True(aead.TryOpen(nonce, sealedBytes, aad, opened));
        Assert.Equal(plaintext, opened);

        sealedBytes[3] ^= 1;
        Assert.False(aead.TryOpen(nonce, sealedBytes, aad, opened));
    }

    [Fact]
    public void Transport_nonce_is_big_endian_counter()
    {
        var nonce = new byte[12];
        ChaChaPoly.WriteNonce(1, nonce);
        Assert.Equal("000000000000000000000001", Convert.ToHexStringLower(nonce));
        ChaChaPoly.WriteNonce(0x0102030405060708, nonce);
        Assert.Equal("000000000102030405060708", Convert.ToHexStringLower(nonce));
    }

    [Fact]
    public void Hkdf_equals_rfc5869_with_empty_info()
    {
        var chainingKey = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        var ikm = Enumerable.Range(100, 32).Select(i => (byte)i).ToArray();
        var out1 = new byte[32];
        var out2 = new byte[32];
        Blake2s.Hkdf(chainingKey, ikm, out1, out2);

        // RFC 5869 by its own definition: PRK = HMAC(salt, IKM); T(1) = HMAC(PRK, 0x01); T(2) = HMAC(PRK, T(1) ‖ 0x02).
        var prk = new byte[32];
        var t1 = new byte[32];
        var t2 = new byte[32];
        Blake2s.Hmac(chainingKey, ikm, [], prk);
        Blake2s.Hmac(prk, [0x01], [], t1);
        Blake2s.Hmac(prk, t1, [0x02], t2);
        Assert.Equal(t1, out1);
        Assert.Equal(t2, out2);
        Assert.NotEqual(out1, out2);
    }

    private static string HashHex(ReadOnlySpan<byte> input)
    {
        var hash = new byte[32];
        Blake2s.Hash(input, hash);
        return Convert.ToHexStringLower(hash);
    }
}
