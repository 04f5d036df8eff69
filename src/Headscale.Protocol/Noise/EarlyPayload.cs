using System.Buffers;
using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Json.Serialization;
using Headscale.Protocol.Keys;

namespace Headscale.Protocol.Noise;

/// <summary><c>tailcfg.EarlyNoise</c>: what the server says before HTTP/2 starts (spec §e.1).</summary>
public sealed record EarlyNoise([property: JsonPropertyName("nodeKeyChallenge")] ChallengePublicKey NodeKeyChallenge);

[JsonSerializable(typeof(EarlyNoise))]
internal sealed partial class EarlyPayloadJsonContext : JsonSerializerContext;

/// <summary>
/// The optional early payload: magic <c>ff ff ff 54 53</c>, a big-endian 32-bit JSON length, then the JSON.
/// It sits at the start of the Noise plaintext, before the server's first HTTP/2 frame.
/// </summary>
public static class EarlyPayload
{
    public const int HeaderSize = 9;
    public const int MaxJsonLength = 10 * 1024 * 1024;
    public static ReadOnlySpan<byte> Magic => [0xff, 0xff, 0xff, (byte)'T', (byte)'S'];

    public static void Write(IBufferWriter<byte> output, EarlyNoise payload)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(payload, EarlyPayloadJsonContext.Default.EarlyNoise);
        var header = output.GetSpan(HeaderSize);
        Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt32BigEndian(header[5..], (uint)json.Length);
        output.Advance(HeaderSize);
        output.Write(json);
    }

    /// <summary>Whether the first plaintext bytes start an early payload rather than HTTP/2 (needs at least 9 bytes).</summary>
    public static bool IsEarlyPayload(ReadOnlySequence<byte> start)
    {
        Span<byte> head = stackalloc byte[Magic.Length];
        start.Slice(0, Magic.Length).CopyTo(head);
        return head.SequenceEqual(Magic);
    }

    /// <summary>
    /// Parses a complete early payload at the start of <paramref name="buffer"/>. Returns false if more bytes are needed;
    /// throws <see cref="NoiseProtocolException"/> if it is malformed.
    /// </summary>
    public static bool TryRead(ref ReadOnlySequence<byte> buffer, out EarlyNoise? payload)
    {
        payload = null;
        if (buffer.Length < HeaderSize)
        {
            return false;
        }

        Span<byte> header = stackalloc byte[HeaderSize];
        buffer.Slice(0, HeaderSize).CopyTo(header);
        var length = BinaryPrimitives.ReadUInt32BigEndian(header[5..]);
        if (length > MaxJsonLength)
        {
            throw new NoiseProtocolException($"early payload of {length} bytes exceeds the maximum of {MaxJsonLength}");
        }

        if (buffer.Length < HeaderSize + length)
        {
            return false;
        }

        var json = buffer.Slice(HeaderSize, length);
        try
        {
            var reader = new Utf8JsonReader(json);
            payload = JsonSerializer.Deserialize(ref reader, EarlyPayloadJsonContext.Default.EarlyNoise)
                ?? throw new NoiseProtocolException("early payload is JSON null");
        }
        catch (JsonException ex)
        {
            throw new NoiseProtocolException($"early payload is not valid EarlyNoise JSON: {ex.Message}");
        }

        buffer = buffer.Slice(HeaderSize + length);
        return true;
    }
}
