using System.Buffers;
using System.Buffers.Binary;

namespace Headscale.Derp.Protocol;

/// <summary>
/// Pure frame parser with the Bedrock <c>TryParse</c> contract: it either consumes exactly one whole frame from the
/// front of <c>buffer</c> and returns true, or leaves the buffer untouched and returns false (need more data).
/// It never allocates; the payload is a slice of the input.
/// </summary>
public static class DerpFrameReader
{
    /// <exception cref="DerpProtocolException">The header announces a payload larger than <paramref name="maxPayloadLength"/>.</exception>
    public static bool TryReadFrame(ref ReadOnlySequence<byte> buffer, int maxPayloadLength,
        out DerpFrameType type, out ReadOnlySequence<byte> payload)
    {
        type = default;
        payload = default;
        if (buffer.Length < DerpConstants.FrameHeaderLength) return false;

        Span<byte> header = stackalloc byte[DerpConstants.FrameHeaderLength];
        buffer.Slice(0, DerpConstants.FrameHeaderLength).CopyTo(header);
        var length = BinaryPrimitives.ReadUInt32BigEndian(header[1..]);
        if (length > (uint)maxPayloadLength)
            throw new DerpProtocolException(
                $"Frame of type 0x{header[0]:x2} announces {length} bytes; the limit here is {maxPayloadLength}.");
        if (buffer.Length - DerpConstants.FrameHeaderLength < length) return false;

        type = (DerpFrameType)header[0];
        payload = buffer.Slice(DerpConstants.FrameHeaderLength, length);
        buffer = buffer.Slice(payload.End);
        return true;
    }

    /// <summary>Reads a 32-byte key at <paramref name="offset"/> of a payload that may span segments.</summary>
    public static Keys.DerpPublicKey ReadKey(in ReadOnlySequence<byte> payload, int offset)
    {
        var slice = payload.Slice(offset, DerpConstants.KeyLength);
        if (slice.IsSingleSegment) return new Keys.DerpPublicKey(slice.FirstSpan);
        Span<byte> bytes = stackalloc byte[DerpConstants.KeyLength];
        slice.CopyTo(bytes);
        return new Keys.DerpPublicKey(bytes);
    }
}
