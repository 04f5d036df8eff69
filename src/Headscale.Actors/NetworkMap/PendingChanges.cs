using Headscale.Protocol.Tailcfg;

namespace Headscale.Actors.NetworkMap;

/// <summary>
/// What changed in the network map since it last told its viewers: per node only the latest of each kind
/// (a full entry, a removal, an online edge, an endpoint patch), each stamped with the sequence number of
/// its last change. A viewer that subscribed after a stamp already has that change in its full map, so
/// the flush skips it for that viewer. Not thread-safe: one actor owns it.
/// </summary>
internal sealed class PendingChanges
{
    private long _sequence;

    /// <summary>Nodes whose full entry (and, for the node itself, its self node) must be sent again.</summary>
    public Dictionary<long, long> Changed { get; } = new();

    /// <summary>Nodes deleted from the map.</summary>
    public Dictionary<long, long> Removed { get; } = new();

    /// <summary>Online edges: the latest state, with the last-seen time when it went offline.</summary>
    public Dictionary<long, Presence> Online { get; } = new();

    /// <summary>Endpoint, disco key and home DERP changes, merged per node (latest wins per field).</summary>
    public Dictionary<long, (PeerChange Patch, long Stamp)> Patches { get; } = new();

    /// <summary>The stamp a viewer subscribing now gets: every change recorded so far is in its full map.</summary>
    public long Current => _sequence;

    public bool IsEmpty => Changed.Count == 0 && Removed.Count == 0 && Online.Count == 0 && Patches.Count == 0;

    public void MarkChanged(IEnumerable<long> nodeIds)
    {
        foreach (var id in nodeIds)
        {
            Changed[id] = ++_sequence;
        }
    }

    public void MarkRemoved(long nodeId)
    {
        Changed.Remove(nodeId);
        Online.Remove(nodeId);
        Patches.Remove(nodeId);
        Removed[nodeId] = ++_sequence;
    }

    public void MarkOnline(long nodeId, bool online, DateTimeOffset? lastSeen) =>
        Online[nodeId] = new Presence(online, lastSeen, ++_sequence);

    public void MarkPatch(PeerChange patch)
    {
        var merged = Patches.TryGetValue(patch.NodeId, out var earlier)
            ? earlier.Patch with
            {
                Endpoints = patch.Endpoints ?? earlier.Patch.Endpoints,
                DiscoKey = patch.DiscoKey ?? earlier.Patch.DiscoKey,
                DerpRegion = patch.DerpRegion != 0 ? patch.DerpRegion : earlier.Patch.DerpRegion,
            }
            : patch;
        Patches[patch.NodeId] = (merged, ++_sequence);
    }

    public void Clear()
    {
        Changed.Clear();
        Removed.Clear();
        Online.Clear();
        Patches.Clear();
    }

    public readonly record struct Presence(bool IsOnline, DateTimeOffset? LastSeen, long Stamp);
}

/// <summary>
/// One flush's changes in a fixed order, so that what a viewer is told can be described as the list of
/// item positions it gets; viewers with equal lists get one shared message.
/// </summary>
internal sealed class FlushItems
{
    public required (long Id, long Stamp)[] Changed { get; init; }
    public required (long Id, long Stamp)[] Removed { get; init; }

    public required (long Id, PendingChanges.Presence Presence)[] Online { get; init; }

    /// <summary>Endpoint patches, with the stamp of the node's full entry in this flush (0 if none): a viewer sent the entry needs no patch.</summary>
    public required (long Id, PeerChange Patch, long Stamp, long EntryStamp)[] Patches { get; init; }

    public static FlushItems From(PendingChanges pending)
    {
        var changed = pending.Changed.Select(e => (e.Key, e.Value)).OrderBy(e => e.Key).ToArray();
        return new FlushItems
        {
            Changed = changed,
            Removed = pending.Removed.Select(e => (e.Key, e.Value)).OrderBy(e => e.Key).ToArray(),
            Online = pending.Online
                .Select(e => (e.Key, e.Value))
                .OrderBy(e => e.Key)
                .ToArray(),
            Patches = pending.Patches
                .Select(e => (e.Key, e.Value.Patch, e.Value.Stamp, pending.Changed.GetValueOrDefault(e.Key)))
                .OrderBy(e => e.Key)
                .ToArray(),
        };
    }

    public int RemovedBase => Changed.Length;

    public int OnlineBase => Changed.Length + Removed.Length;

    public int PatchBase => Changed.Length + Removed.Length + Online.Length;
}

/// <summary>
/// The messages of one flush by the item positions they carry: equal lists share one instance. The
/// lookup reuses the caller's scratch list and copies it only for a new message.
/// </summary>
internal sealed class SharedMessages
{
    private readonly Dictionary<int, List<(int[] Items, MapResponse Message)>> _byHash = new();

    public MapResponse GetOrAdd(List<int> items, Func<MapResponse> build)
    {
        var hash = new HashCode();
        foreach (var item in items)
        {
            hash.Add(item);
        }

        var key = hash.ToHashCode();
        if (!_byHash.TryGetValue(key, out var bucket))
        {
            _byHash[key] = bucket = [];
        }

        foreach (var (known, message) in bucket)
        {
            if (known.AsSpan().SequenceEqual(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(items)))
            {
                return message;
            }
        }

        var built = build();
        bucket.Add(([.. items], built));
        return built;
    }

}
