using System.Runtime.CompilerServices;

namespace Headscale.Protocol.Tailcfg;

/// <summary>
/// Compressed chunks of peer entries, shared by every full map that lists the same entries.
/// <list type="bullet">
/// <item>A chunk is the peers of one id group — ids <c>64g</c> to <c>64g+63</c> — that one viewer sees: their JSON
/// entries sorted by id and separated by commas, compressed as one zstd frame. Grouping by id, not by position,
/// means a peer hidden from one viewer (or the viewer itself) changes only the chunk of its own group. The viewer's
/// own group is cut into chunks of 8 ids (<see cref="ChunkShift"/>), so only the 8 ids around it are its own.</item>
/// <item>Chunks are found by the identity of their entries. The network map renders a peer's <see cref="MapNode"/>
/// once and replaces the instance when anything the entry shows changes, so equal instances mean equal bytes and a
/// changed peer can never be served from a stale chunk.</item>
/// <item>Memory is owned by the entries: chunks hang off the chunk's first entry in a
/// <see cref="ConditionalWeakTable{TKey,TValue}"/>, so they go when that entry is no longer used, and each first
/// entry keeps at most <see cref="MaxVariants"/> chunks (different visible subsets of its group), the least recently
/// used giving way. A chunk superseded by one with the same ids but newer entries is dropped at once.</item>
/// </list>
/// Thread-safe: sessions assemble full maps on pool threads at the same time. Two threads missing the same chunk at
/// once may both compress it; one copy is kept.
/// </summary>
public sealed class PeerChunkCache
{
    /// <summary>Peers per id group: one bit-word of the map's peer sets, and chunks of ~64 peers cost about 3% more bytes than one frame.</summary>
    public const int GroupSize = 64;

    /// <summary>Distinct visible subsets kept per group start; more than a few means the policy gives most viewers their own view anyway.</summary>
    public const int MaxVariants = 4;

    private readonly ConditionalWeakTable<MapNode, Variants> _byFirstEntry = new();
    private long _hits;
    private long _misses;
    private long _uncached;

    /// <summary>The cache the map sessions share.</summary>
    public static PeerChunkCache Shared { get; } = new();

    /// <summary>Chunks served from the cache.</summary>
    public long Hits => Interlocked.Read(ref _hits);

    /// <summary>Chunks compressed and kept.</summary>
    public long Misses => Interlocked.Read(ref _misses);

    /// <summary>Chunks compressed for one map only (the 8 ids around the viewer itself, which no other viewer sees the same way).</summary>
    public long Uncached => Interlocked.Read(ref _uncached);

    /// <summary>The id group of a node id.</summary>
    public static long GroupOf(long id) => id >> 6;

    /// <summary>
    /// How a viewer's peers are cut into chunks: by groups of 64 ids (shift 6), except the viewer's own group, which
    /// is cut into eighths of 8 ids (shift 3). The viewer's own group lacks the viewer, so no other viewer sees it that
    /// way; cut finer, only the eighth around the viewer is its alone, and the other seven are shared with the other
    /// viewers of the group.
    /// </summary>
    public static int ChunkShift(long peerId, long? viewerId) =>
        viewerId is { } self && GroupOf(self) == GroupOf(peerId) ? 3 : 6;

    /// <summary>
    /// The zstd frame of <paramref name="members"/> (non-empty, one group, sorted by id), from the cache or compressed
    /// now. With <paramref name="cache"/> false the frame is compressed and not kept.
    /// </summary>
    internal byte[] Frame(MapNode[] members, bool cache)
    {
        if (!cache)
        {
            Interlocked.Increment(ref _uncached);
            return Compress(members);
        }

        var variants = _byFirstEntry.GetValue(members[0], static _ => new Variants());
        if (variants.TryGet(members) is { } hit)
        {
            Interlocked.Increment(ref _hits);
            return hit;
        }

        var frame = Compress(members);
        Interlocked.Increment(ref _misses);
        return variants.Add(members, frame);
    }

    private static byte[] Compress(MapNode[] members)
    {
        var length = members.Length - 1;
        foreach (var member in members)
        {
            length += MapResponseJson.PeerBytes(member).Length;
        }

        var json = System.Buffers.ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var at = 0;
            for (var i = 0; i < members.Length; i++)
            {
                if (i > 0)
                {
                    json[at++] = (byte)',';
                }

                var bytes = MapResponseJson.PeerBytes(members[i]);
                bytes.CopyTo(json.AsSpan(at));
                at += bytes.Length;
            }

            return MapFrameCodec.Compress(json.AsSpan(0, length));
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(json);
        }
    }

    /// <summary>The chunks that start with one entry, by the exact entries they hold; a short list behind a lock.</summary>
    private sealed class Variants
    {
        private readonly List<Variant> _list = new(1);
        private long _clock;

        public byte[]? TryGet(MapNode[] members)
        {
            lock (_list)
            {
                foreach (var variant in _list)
                {
                    if (SameEntries(variant.Members, members))
                    {
                        variant.LastUse = ++_clock;
                        return variant.Frame;
                    }
                }
            }

            return null;
        }

        public byte[] Add(MapNode[] members, byte[] frame)
        {
            lock (_list)
            {
                for (var i = _list.Count - 1; i >= 0; i--)
                {
                    var existing = _list[i];
                    if (SameEntries(existing.Members, members))
                    {
                        // Another thread compressed the same chunk first: everyone shares its copy.
                        existing.LastUse = ++_clock;
                        return existing.Frame;
                    }

                    if (SameIds(existing.Members, members))
                    {
                        // The same peers, rendered again since (a peer changed): the old chunk will not be asked for again.
                        _list.RemoveAt(i);
                    }
                }

                if (_list.Count >= MaxVariants)
                {
                    var oldest = 0;
                    for (var i = 1; i < _list.Count; i++)
                    {
                        if (_list[i].LastUse < _list[oldest].LastUse)
                        {
                            oldest = i;
                        }
                    }

                    _list.RemoveAt(oldest);
                }

                _list.Add(new Variant(members, frame) { LastUse = ++_clock });
                return frame;
            }
        }

        private static bool SameEntries(MapNode[] a, MapNode[] b)
        {
            if (a.Length != b.Length)
            {
                return false;
            }

            for (var i = 0; i < a.Length; i++)
            {
                if (!ReferenceEquals(a[i], b[i]))
                {
                    return false;
                }
            }

            return true;
        }

        private static bool SameIds(MapNode[] a, MapNode[] b)
        {
            if (a.Length != b.Length)
            {
                return false;
            }

            for (var i = 0; i < a.Length; i++)
            {
                if (a[i].Id != b[i].Id)
                {
                    return false;
                }
            }

            return true;
        }
    }

    private sealed class Variant(MapNode[] members, byte[] frame)
    {
        public MapNode[] Members { get; } = members;
        public byte[] Frame { get; } = frame;
        public long LastUse { get; set; }
    }
}
