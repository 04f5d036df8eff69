namespace Headscale.Actors.NetworkMap;

/// <summary>
/// The compiled policy as the network map consumes it: who sees whom, and each node's packet
/// filter and SSH policy as pre-encoded JSON (encoded once per distinct value, shared by viewers).
/// </summary>
public interface ITailnetPolicy
{
    /// <summary>Whether <paramref name="viewer"/> gets <paramref name="peer"/> in its peer list.</summary>
    bool CanSee(PeerView viewer, PeerView peer);

    /// <summary>The packet filter (JSON array of FilterRules) for traffic into <paramref name="node"/>.</summary>
    ReadOnlyMemory<byte> PacketFilterFor(PeerView node);

    /// <summary>The SSH policy (JSON object) enforced by <paramref name="node"/>.</summary>
    ReadOnlyMemory<byte> SshPolicyFor(PeerView node);

    /// <summary>
    /// Every node of <paramref name="nodes"/> (the map's nodes by id) that <paramref name="viewer"/> may see (never the viewer itself), as a set
    /// over the map's slots; null when it sees every node, so the caller can share one set. The default asks
    /// <see cref="CanSee"/> node by node; policies that hold visibility as sets hand them over instead.
    /// </summary>
    PeerIdSet? VisibleSet(PeerView viewer, IReadOnlyDictionary<long, PeerView> nodes, NodeSlots slots)
    {
        var visible = new PeerIdSet(slots);
        foreach (var node in nodes.Values)
        {
            if (node.Id != viewer.Id && CanSee(viewer, node))
            {
                visible.Add(node.Id);
            }
        }

        return visible;
    }
}

/// <summary>No policy configured: every node sees every node and accepts everything (Headscale's default).</summary>
public sealed class AllowAllPolicy : ITailnetPolicy
{
    public static readonly AllowAllPolicy Instance = new();

    private static readonly byte[] AllowAllFilter =
        """[{"SrcIPs":["*"],"DstPorts":[{"IP":"*","Ports":{"First":0,"Last":65535}}]}]"""u8.ToArray();

    private static readonly byte[] NoSsh = """{"rules":[]}"""u8.ToArray();

    public bool CanSee(PeerView viewer, PeerView peer) => true;

    public ReadOnlyMemory<byte> PacketFilterFor(PeerView node) => AllowAllFilter;

    public ReadOnlyMemory<byte> SshPolicyFor(PeerView node) => NoSsh;

    public PeerIdSet? VisibleSet(PeerView viewer, IReadOnlyDictionary<long, PeerView> nodes, NodeSlots slots) => null;
}
