using Headscale.Protocol.Tailcfg;

namespace Headscale.Actors.NetworkMap;

/// <summary>
/// A delta the network map sends to map sessions: one instance per distinct message of a change,
/// shared by every viewer that gets exactly this message. Its frame is encoded at most once per
/// compression mode, by whichever session asks first, and the others send the same bytes: a change
/// seen the same way by N viewers costs one JSON serialisation and one compression, not N.
/// Immutable once built (the frame bytes are never written after they are published).
/// </summary>
public sealed class MapDelta(MapResponse response)
{
    private readonly Lock _encoding = new();
    private byte[]? _zstd;
    private byte[]? _plain;

    public MapResponse Response { get; } = response;

    /// <summary>The length-prefixed frame of <see cref="Response"/>; thread-safe, encoded once per mode.</summary>
    public byte[] Frame(bool zstd)
    {
        var cached = zstd ? Volatile.Read(ref _zstd) : Volatile.Read(ref _plain);
        if (cached is not null)
        {
            return cached;
        }

        lock (_encoding)
        {
            ref var slot = ref zstd ? ref _zstd : ref _plain;
            if (slot is null)
            {
                Volatile.Write(ref slot, MapFrameCodec.Encode(Response, zstd));
            }

            return slot!;
        }
    }

    /// <summary>Whether the frame for <paramref name="zstd"/> has been encoded (for tests and diagnostics).</summary>
    public bool IsEncoded(bool zstd) => (zstd ? Volatile.Read(ref _zstd) : Volatile.Read(ref _plain)) is not null;
}
