using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;

namespace Headscale.Protocol.Tailcfg;

/// <summary>
/// One length-prefixed map frame ready to send. Small frames are one array with the prefix included; a full map is its
/// prefix and the pieces it is made of (peer chunks shared by every viewer, the viewer's own pieces), written one
/// after the other. A full map is hundreds of KiB at a few thousand nodes: assembling it into one array would put a
/// large-object-heap allocation and a copy on every session open.
/// </summary>
public readonly struct MapFrame
{
    private readonly byte[]? _whole;
    private readonly byte[][]? _parts;

    /// <summary>A frame whose prefix and body are already in one array.</summary>
    public MapFrame(byte[] whole)
    {
        ArgumentNullException.ThrowIfNull(whole);
        if (whole.Length < 4)
        {
            throw new ArgumentException("a map frame has at least its 4-byte length prefix", nameof(whole));
        }

        _whole = whole;
        Length = whole.Length;
    }

    private MapFrame(byte[][] parts, int length)
    {
        _parts = parts;
        Length = length;
    }

    /// <summary>Bytes on the wire: the 4-byte prefix and the body.</summary>
    public int Length { get; }

    /// <summary>True for the default value, which holds no frame.</summary>
    public bool IsEmpty => _whole is null && _parts is null;

    public static implicit operator MapFrame(byte[] whole) => new(whole);

    /// <summary>A frame whose body is <paramref name="body"/> in order; the prefix is written from their total length.</summary>
    public static MapFrame FromParts(byte[][] body)
    {
        ArgumentNullException.ThrowIfNull(body);
        long length = 0;
        foreach (var part in body)
        {
            length += part.Length;
        }

        if (length > MapFrameCodec.MaxBodyBytes)
        {
            throw new InvalidOperationException($"map frame body of {length} bytes is larger than {MapFrameCodec.MaxBodyBytes}");
        }

        return new MapFrame(body, (int)length + 4);
    }

    /// <summary>Writes the frame (prefix included) to <paramref name="writer"/>.</summary>
    public void WriteTo(IBufferWriter<byte> writer)
    {
        if (_whole is not null)
        {
            writer.Write(_whole);
            return;
        }

        if (_parts is null)
        {
            throw new InvalidOperationException("an empty MapFrame has nothing to write");
        }

        WritePrefix(writer);
        foreach (var part in _parts)
        {
            writer.Write(part);
        }
    }

    /// <summary>
    /// Writes the frame (prefix included) to <paramref name="writer"/>, flushing whenever <paramref name="flushEvery"/>
    /// bytes or more are waiting, so a full map reaches the connection a slice at a time under the transport's back
    /// pressure instead of being buffered whole (hundreds of KiB per session at a few thousand nodes, in buffers the
    /// connection's pool keeps afterwards). Unflushed bytes are left for the caller's flush; once the reader has completed,
    /// the rest is not written.
    /// </summary>
    public async ValueTask WriteToAsync(PipeWriter writer, int flushEvery, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(flushEvery);
        if (_whole is not null || _parts is null || Length <= flushEvery)
        {
            WriteTo(writer);
            return;
        }

        WritePrefix(writer);
        var unflushed = 4;
        foreach (var part in _parts)
        {
            writer.Write(part);
            unflushed += part.Length;
            if (unflushed >= flushEvery)
            {
                var result = await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
                if (result.IsCompleted)
                {
                    // Nobody reads the stream any more: the rest of the frame would go nowhere.
                    return;
                }

                unflushed = 0;
            }
        }
    }

    private void WritePrefix(IBufferWriter<byte> writer)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(writer.GetSpan(4), (uint)(Length - 4));
        writer.Advance(4);
    }

    /// <summary>The frame as one array (tests and tools; the server writes the pieces).</summary>
    public byte[] ToArray()
    {
        if (_whole is not null)
        {
            return _whole;
        }

        var writer = new ArrayBufferWriter<byte>(Length);
        WriteTo(writer);
        return writer.WrittenSpan.ToArray();
    }
}
