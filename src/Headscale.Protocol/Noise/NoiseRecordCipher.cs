using System.Buffers.Binary;
using Headscale.Protocol.Crypto;

namespace Headscale.Protocol.Noise;

/// <summary>
/// One direction of the transport: seals or opens type-4 records with a counter nonce (big-endian, spec §d.5).
/// Not thread-safe; each direction is driven by one loop.
/// </summary>
public sealed class NoiseRecordCipher : IDisposable
{
    private readonly ChaChaPoly _aead;
    private ulong _counter;

    public NoiseRecordCipher(ReadOnlySpan<byte> key) => _aead = new ChaChaPoly(key);

    /// <summary>Records sealed or opened so far; also the next nonce counter.</summary>
    public ulong Counter => _counter;

    /// <summary>Writes one record (header + ciphertext + tag) for at most 4077 bytes of plaintext; returns its size.</summary>
    public int Seal(ReadOnlySpan<byte> plaintext, Span<byte> record)
    {
        if (plaintext.Length > NoiseMessages.MaxPlaintextSize)
        {
            throw new ArgumentException($"A record holds at most {NoiseMessages.MaxPlaintextSize} bytes of plaintext.", nameof(plaintext));
        }

        var ciphertextLength = plaintext.Length + NoiseMessages.TagSize;
        record[0] = NoiseMessages.TypeRecord;
        BinaryPrimitives.WriteUInt16BigEndian(record[1..], (ushort)ciphertextLength);
        Span<byte> nonce = stackalloc byte[ChaChaPoly.NonceSize];
        ChaChaPoly.WriteNonce(NextCounter(), nonce);
        _aead.Seal(nonce, plaintext, [], record.Slice(NoiseMessages.HeaderSize, ciphertextLength));
        return NoiseMessages.HeaderSize + ciphertextLength;
    }

    /// <summary>Opens the ciphertext of one record (header already removed); false on authentication failure.</summary>
    public bool TryOpen(ReadOnlySpan<byte> ciphertext, Span<byte> plaintext)
    {
        Span<byte> nonce = stackalloc byte[ChaChaPoly.NonceSize];
        ChaChaPoly.WriteNonce(NextCounter(), nonce);
        return _aead.TryOpen(nonce, ciphertext, [], plaintext);
    }

    private ulong NextCounter()
    {
        // 2^64-1 is never used as a nonce: the cipher is exhausted and the connection must end.
        if (_counter == ulong.MaxValue)
        {
            throw new NoiseProtocolException("transport cipher exhausted");
        }

        return _counter++;
    }

    public void Dispose() => _aead.Dispose();
}
