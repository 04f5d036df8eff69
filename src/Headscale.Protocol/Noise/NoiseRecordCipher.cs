using System.Buffers.Binary;
using Headscale.Protocol.Crypto;

namespace Headscale.Protocol.Noise;

/// <summary>
/// One direction of the transport: seals or opens type-4 records with a counter nonce (big-endian, spec §d.5).
/// Not thread-safe; each direction is driven by one loop.
/// </summary>
/// <remarks>
/// The AEAD is made when a record needs it and kept until <see cref="Release"/>: it holds about 2.3 KiB of native cipher
/// state (an OpenSSL context), two per connection, and nearly all of thousands of map streams are idle nearly all of
/// the time. The loops release it after each batch of records; making one costs less than sealing 100 bytes.
/// </remarks>
public sealed class NoiseRecordCipher : IDisposable
{
    private readonly byte[] _key;
    private ChaChaPoly? _aead;
    private ulong _counter;
    private bool _disposed;

    public NoiseRecordCipher(ReadOnlySpan<byte> key)
    {
        ChaChaPoly.ThrowIfNotAKey(key);
        _key = key.ToArray();
    }

    /// <summary>Whether the AEAD (and its native state) is held now; for tests.</summary>
    internal bool HoldsCipher => _aead is not null;

    private ChaChaPoly Aead => _aead ?? (_disposed ? throw new ObjectDisposedException(nameof(NoiseRecordCipher)) : _aead = new ChaChaPoly(_key));

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
        Aead.Seal(nonce, plaintext, [], record.Slice(NoiseMessages.HeaderSize, ciphertextLength));
        return NoiseMessages.HeaderSize + ciphertextLength;
    }

    /// <summary>Opens the ciphertext of one record (header already removed); false on authentication failure.</summary>
    public bool TryOpen(ReadOnlySpan<byte> ciphertext, Span<byte> plaintext)
    {
        Span<byte> nonce = stackalloc byte[ChaChaPoly.NonceSize];
        ChaChaPoly.WriteNonce(NextCounter(), nonce);
        return Aead.TryOpen(nonce, ciphertext, [], plaintext);
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

    /// <summary>Lets the AEAD go until the next record (after a batch; the counter and key stay).</summary>
    public void Release()
    {
        _aead?.Dispose();
        _aead = null;
    }

    public void Dispose()
    {
        _disposed = true;
        Release();
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(_key);
    }
}
