using System.Collections.Immutable;
using System.Net;
using Headscale.Policy.Snapshot;

namespace Headscale.Policy.Compilation;

/// <summary>
/// Lookup tables over a snapshot, built once per snapshot: nodes by user, by tag and by address, and the
/// tailnet-wide lists that wildcards expand to. Node indexes are positions in <see cref="Nodes"/>.
/// </summary>
public sealed class TailnetIndex
{
    public TailnetIndex(TailnetSnapshot snapshot)
    {
        Snapshot = snapshot;
        Nodes = snapshot.Nodes;
        Count = Nodes.Length;
        var byUser = new Dictionary<string, NodeBits>(StringComparer.Ordinal);
        var byTag = new Dictionary<string, NodeBits>(StringComparer.Ordinal);
        var byAddress = new Dictionary<IPAddress, int>();
        Members = new NodeBits(Count);
        Tagged = new NodeBits(Count);
        ExitNodes = new NodeBits(Count);
        var subnetRoutes = new List<IPNetwork>();
        for (var i = 0; i < Count; i++)
        {
            var node = Nodes[i];
            if (node.IsTagged)
            {
                Tagged.Add(i);
                foreach (var tag in node.Tags) Bucket(byTag, tag).Add(i);
            }
            else if (node.UserEmail is not null)
            {
                Members.Add(i);
                Bucket(byUser, node.UserEmail).Add(i);
            }
            foreach (var a in node.Addresses) byAddress[a] = i;
            foreach (var route in node.ApprovedRoutes)
            {
                if (Routes.IsExitRoute(route)) ExitNodes.Add(i);
                else if (!subnetRoutes.Contains(route)) subnetRoutes.Add(route);
            }
        }
        NodesByUser = byUser;
        NodesByTag = byTag;
        NodeByAddress = byAddress;
        ApprovedSubnetRoutes = [.. subnetRoutes];
        AllNodes = NodeBits.All(Count);
    }

    private NodeBits Bucket(Dictionary<string, NodeBits> map, string key)
    {
        if (!map.TryGetValue(key, out var bits)) map[key] = bits = new NodeBits(Count);
        return bits;
    }

    public TailnetSnapshot Snapshot { get; }
    public ImmutableArray<TailnetNode> Nodes { get; }
    public int Count { get; }
    public NodeBits AllNodes { get; }
    public NodeBits Members { get; }
    public NodeBits Tagged { get; }

    /// <summary>Nodes with an approved exit route (0.0.0.0/0 or ::/0).</summary>
    public NodeBits ExitNodes { get; }
    public IReadOnlyDictionary<string, NodeBits> NodesByUser { get; }
    public IReadOnlyDictionary<string, NodeBits> NodesByTag { get; }
    public IReadOnlyDictionary<IPAddress, int> NodeByAddress { get; }

    /// <summary>Every distinct approved non-exit route of the tailnet, in registration order.</summary>
    public ImmutableArray<IPNetwork> ApprovedSubnetRoutes { get; }

    public NodeBits Empty => new(Count);

    /// <summary>Nodes whose address lies in <paramref name="prefix"/> or whose approved subnet routes overlap it.</summary>
    public NodeBits NodesTouching(IPNetwork prefix)
    {
        var bits = new NodeBits(Count);
        if (prefix.PrefixLength == (prefix.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128)
            && NodeByAddress.TryGetValue(prefix.BaseAddress, out var owner))
            bits.Add(owner);
        for (var i = 0; i < Count; i++)
        {
            var node = Nodes[i];
            if (node.Addresses.Any(prefix.Contains)) { bits.Add(i); continue; }
            foreach (var route in node.ApprovedRoutes)
            {
                if (!Routes.IsExitRoute(route) && Routes.Overlaps(route, prefix)) { bits.Add(i); break; }
            }
        }
        return bits;
    }
}
