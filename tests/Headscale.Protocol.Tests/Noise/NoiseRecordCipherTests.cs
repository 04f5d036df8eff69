using Headscale.Protocol.Noise;

namespace Headscale.Protocol.Tests.Noise;

public sealed class NoiseRecordCipherTests
{
    private static readonly byte[] Key = Enumerable.Range(1, 32).Select(static i => (byte)i).ToArray();

    private static byte[] Seal(NoiseRecordCipher sender, byte[] plaintext)
    {
        var record = new byte[plaintext.Length + NoiseMessages.HeaderSize + NoiseMessages.TagSize];
        Assert.Equal(record.Length, sender.Seal(plaintext, record));
        return record;
    }

    private static byte[] Open(NoiseRecordCipher receiver, byte[] record)
    {
        var plaintext = new byte[record.Length - NoiseMessages.HeaderSize - NoiseMessages.TagSize];
        Assert.True(receiver.TryOpen(record.AsSpan(NoiseMessages.HeaderSize), plaintext), "the record opens");
        return plaintext;
    }

    [Fact]
    public void Released_between_records_the_cipher_keeps_its_key_and_counter()
    {
        using var sender = new NoiseRecordCipher(Key);
        using var receiver = new NoiseRecordCipher(Key);

        var first = Seal(sender, "first"u8.ToArray());
        Assert.True(sender.HoldsCipher);
        sender.Release();
        Assert.False(sender.HoldsCipher);
        var second = Seal(sender, "second"u8.ToArray());
        sender.Release();

        Assert.Equal("first"u8.ToArray(), Open(receiver, first));
        receiver.Release();
        Assert.Equal("second"u8.ToArray(), Open(receiver, second));
        Assert.Equal(2UL, sender.Counter);
        Assert.Equal(2UL, receiver.Counter);
    }

    [Fact]
    public void A_disposed_cipher_refuses_to_seal_instead_of_sealing_with_a_wiped_key()
    {
        var sender = new NoiseRecordCipher(Key);
        Seal(sender, "x"u8.ToArray());
        sender.Dispose();

        Assert.Throws<ObjectDisposedException>(() => Seal(sender, "y"u8.ToArray()));
    }

    [Fact]
    public void A_key_of_the_wrong_size_is_refused()
    {
        var refused = Assert.Throws<ArgumentException>(() => new NoiseRecordCipher(new byte[31]));
        Assert.Equal("key", refused.ParamName);
    }
}
