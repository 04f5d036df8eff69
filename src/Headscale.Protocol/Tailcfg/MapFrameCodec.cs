using System.Buffers;
using System.Buffers.Binary;
using ZstdSharp;

namespace Headscale.Protocol.Tailcfg;

/// <summary>
/// The map stream's framing: each message is a 4-byte <b>little-endian</b> length followed by the
/// body, which is the MapResponse JSON, zstd-compressed when the client asked for <c>Compress: "zstd"</c>.
/// A body is one zstd frame, or for full maps several (<see cref="EncodeFullMap"/>) that decode to one JSON text.
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

    /// <summary>Also per thread: a client reading thousands of frames would otherwise build a context for each.</summary>
    [ThreadStatic]
    private static Decompressor? t_decompressor;

    /// <summary>Encodes one message: JSON → (zstd) → length-prefixed frame.</summary>
    public static byte[] Encode(MapResponse response, bool zstd)
    {
        var json = new ArrayBufferWriter<byte>(1024);
        MapResponseJson.Write(json, response);
        return Frame(json.WrittenSpan, zstd);
    }

    /// <summary>
    /// Encodes a full map (one with <see cref="MapResponse.Peers"/>) from shared pieces: <c>{"Peers":[</c>, the
    /// peers' chunks (<see cref="PeerChunkCache"/>) separated by <c>,</c>, then <c>],</c> and the rest of the
    /// object. With zstd each piece is its own frame and the body is their concatenation, which decodes to the
    /// concatenated JSON (RFC 8878 §3.1; Tailscale clients decode zero or more frames); chunks of peers that other
    /// viewers see the same way are compressed once for all of them. Only the eight ids around the viewer and the
    /// tail (self node, filter, profiles, settings) are compressed per viewer. Peers are written sorted by id.
    /// A response without peers is encoded as by <see cref="Encode"/>. The frame keeps the pieces (<see cref="MapFrame"/>):
    /// they are written to the stream one after the other, never copied into one large array.
    /// </summary>
    public static MapFrame EncodeFullMap(MapResponse response, bool zstd, PeerChunkCache? cache = null)
    {
        if (response.Peers is not { IsDefaultOrEmpty: false } list)
        {
            return Encode(response, zstd);
        }

        var peers = list.ToArray();
        if (!IsSortedById(peers))
        {
            Array.Sort(peers, static (a, b) => a.Id.CompareTo(b.Id));
        }

        var tail = TailJson(response);
        return zstd ? AssembleCompressed(peers, tail, response.Node?.Id, cache ?? PeerChunkCache.Shared) : AssemblePlain(peers, tail);
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

    /// <summary>One zstd frame of <paramref name="json"/>, without a length prefix.</summary>
    internal static byte[] Compress(ReadOnlySpan<byte> json)
    {
        var compressor = t_compressor ??= new Compressor(level: CompressionLevel);
        var rented = ArrayPool<byte>.Shared.Rent(Compressor.GetCompressBound(json.Length));
        try
        {
            var written = compressor.Wrap(json, rented);
            return rented.AsSpan(0, written).ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static readonly byte[] PeersOpen = """{"Peers":["""u8.ToArray();

    private static readonly Lazy<byte[]> PeersOpenFrame = new(() => Compress(PeersOpen));

    private static readonly byte[] Comma = ","u8.ToArray();

    private static readonly Lazy<byte[]> CommaFrame = new(() => Compress(","u8));

    private static bool IsSortedById(MapNode[] peers)
    {
        for (var i = 1; i < peers.Length; i++)
        {
            if (peers[i - 1].Id > peers[i].Id)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary><c>],</c> and the response without its peers and its opening brace: what closes the peer list and the object.</summary>
    private static byte[] TailJson(MapResponse response)
    {
        var rest = MapResponseJson.ToUtf8(response with { Peers = null });
        if (rest.Length == 2)
        {
            return "]}"u8.ToArray();
        }

        var tail = new byte[rest.Length + 1];
        tail[0] = (byte)']';
        tail[1] = (byte)',';
        rest.AsSpan(1).CopyTo(tail.AsSpan(2));
        return tail;
    }

    private static MapFrame AssemblePlain(MapNode[] peers, byte[] tail)
    {
        // {"Peers":[ p0 , p1 , … pN-1 ],…}: the opening, N peers with N-1 commas between them, the tail.
        var parts = new byte[(2 * peers.Length) + 1][];
        parts[0] = PeersOpen;
        for (var i = 0; i < peers.Length; i++)
        {
            if (i > 0)
            {
                parts[2 * i] = Comma;
            }

            parts[(2 * i) + 1] = MapResponseJson.PeerBytes(peers[i]);
        }

        parts[^1] = tail;
        return MapFrame.FromParts(parts);
    }

    private static MapFrame AssembleCompressed(MapNode[] peers, byte[] tail, long? viewerId, PeerChunkCache cache)
    {
        var open = PeersOpenFrame.Value;
        var comma = CommaFrame.Value;
        var parts = new List<byte[]>(2 + peers.Length / 16) { open };
        var start = 0;
        while (start < peers.Length)
        {
            var shift = PeerChunkCache.ChunkShift(peers[start].Id, viewerId);
            var chunk = peers[start].Id >> shift;
            var end = start + 1;
            while (end < peers.Length && PeerChunkCache.ChunkShift(peers[end].Id, viewerId) == shift && peers[end].Id >> shift == chunk)
            {
                end++;
            }

            if (start > 0)
            {
                parts.Add(comma);
            }

            // The chunk around the viewer lists its neighbours but not the viewer: no other viewer sees it that way.
            var own = viewerId is { } self && self >> shift == chunk;
            parts.Add(cache.Frame(peers[start..end], cache: !own));
            start = end;
        }

        parts.Add(Compress(tail));
        return MapFrame.FromParts([.. parts]);
    }

    /// <summary>
    /// Takes one frame's body from the front of <paramref name="buffer"/> without copying or decoding it (a client that
    /// only counts or hashes most frames). Returns false when the frame is not complete yet; a length prefix over
    /// <paramref name="maxBodyBytes"/> is refused with <see cref="InvalidDataException"/>.
    /// </summary>
    public static bool TryTakeFrame(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> body, int maxBodyBytes = MaxBodyBytes)
    {
        body = default;
        if (buffer.Length < 4)
        {
            return false;
        }

        Span<byte> header = stackalloc byte[4];
        buffer.Slice(0, 4).CopyTo(header);
        var length = BinaryPrimitives.ReadUInt32LittleEndian(header);
        if (length > maxBodyBytes)
        {
            throw new InvalidDataException($"map frame of {length} bytes is larger than {maxBodyBytes}");
        }

        if (buffer.Length < 4 + length)
        {
            return false;
        }

        body = buffer.Slice(4, length);
        buffer = buffer.Slice(4 + length);
        return true;
    }

    /// <summary>
    /// Reads one frame from the front of <paramref name="buffer"/> (the client side, used by tests
    /// and the load generator). Returns false when the frame is not complete yet. A body, or the JSON a compressed
    /// body decompresses to, larger than <paramref name="maxJsonBytes"/> is refused with <see cref="InvalidDataException"/>
    /// before it is allocated: a few KiB of zstd can declare gigabytes.
    /// </summary>
    public static bool TryReadFrame(ref ReadOnlySequence<byte> buffer, bool zstd, out byte[] json, int maxJsonBytes = MaxBodyBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxJsonBytes);
        json = [];
        if (!TryTakeFrame(ref buffer, out var frame, maxJsonBytes))
        {
            return false;
        }

        var body = frame.ToArray();
        if (!zstd)
        {
            json = body;
            return true;
        }

        // Unwrap sizes the output over every frame of the body and decodes them all, one after the other.
        // It refuses a body whose frames declare more than the limit before allocating the output.
        try
        {
            json = (t_decompressor ??= new Decompressor()).Unwrap(body, maxJsonBytes).ToArray();
        }
        catch (ZstdException e)
        {
            throw new InvalidDataException($"map frame is not zstd that decompresses to at most {maxJsonBytes} bytes: {e.Message}", e);
        }

        return true;
    }
}
