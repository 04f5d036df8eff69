using System.Buffers;
using System.Buffers.Binary;
using ZstdSharp;

namespace Headscale.Protocol.Tailcfg;

/// <summary>
/// The map stream's framing: each message is a 4-byte <b>little-endian</b> length followed by the
/// body, which is the MapResponse JSON, zstd-compressed (one independent frame per message) when
/// the client asked for <c>Compress: "zstd"</c>.
/// </summary>
public static class MapFrameCodec
{
    /// <summary>Largest body we send or accept; real maps of large tailnets stay well below.</summary>
    public const int MaxBodyBytes = 64 * 1024 * 1024;

    /// <summary>
    /// zstd's fastest level: full maps are the bulk of the server's compression work, and a level-1 frame is
    /// only a few percent larger than a level-3 one on netmap JSON (the performance reference's figures).
    /// </summary>
    public const int CompressionLevel = 1;

    // A compression context is hundreds of KiB of state: one per thread, reused for every
    // frame, instead of one per frame. Each frame stays an independent zstd frame.
    [ThreadStatic]
    private static Compressor? t_compressor;

    /// <summary>Encodes one message: JSON → (zstd) → length-prefixed frame.</summary>
    public static byte[] Encode(MapResponse response, bool zstd)
    {
        var json = new ArrayBufferWriter<byte>(1024);
        MapResponseJson.Write(json, response);
        return Frame(json.WrittenSpan, zstd);
    }

    /// <summary>Frames an already-encoded JSON body.</summary>
    public static byte[] Frame(ReadOnlySpan<byte> json, bool zstd)
    {
        if (!zstd)
        {
            var plain = new byte[4 + json.Length];
            BinaryPrimitives.WriteUInt32LittleEndian(plain, (uint)json.Length);
            json.CopyTo(plain.AsSpan(4));
            return plain;
        }

        var compressor = t_compressor ??= new Compressor(level: CompressionLevel);
        var bound = Compressor.GetCompressBound(json.Length);
        var rented = ArrayPool<byte>.Shared.Rent(bound);
        try
        {
            var written = compressor.Wrap(json, rented);
            var frame = new byte[4 + written];
            BinaryPrimitives.WriteUInt32LittleEndian(frame, (uint)written);
            rented.AsSpan(0, written).CopyTo(frame.AsSpan(4));
            return frame;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// Reads one frame from the front of <paramref name="buffer"/> (the client side, used by tests
    /// and the load generator). Returns false when the frame is not complete yet.
    /// </summary>
    public static bool TryReadFrame(ref ReadOnlySequence<byte> buffer, bool zstd, out byte[] json)
    {
        json = [];
        if (buffer.Length < 4)
        {
            return false;
        }

        Span<byte> header = stackalloc byte[4];
        buffer.Slice(0, 4).CopyTo(header);
        var length = BinaryPrimitives.ReadUInt32LittleEndian(header);
        if (length > MaxBodyBytes)
        {
            throw new InvalidDataException($"map frame of {length} bytes is larger than {MaxBodyBytes}");
        }

        if (buffer.Length < 4 + length)
        {
            return false;
        }

        var body = buffer.Slice(4, length).ToArray();
        buffer = buffer.Slice(4 + length);
        if (!zstd)
        {
            json = body;
            return true;
        }

        using var decompressor = new Decompressor();
        json = decompressor.Unwrap(body).ToArray();
        return true;
    }
}
