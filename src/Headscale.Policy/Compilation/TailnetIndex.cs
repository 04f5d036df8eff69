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
        _v4 = new uint[Count];
        _hasV4 = new bool[Count];
        AddressText = new ImmutableArray<string>[Count];
        var routers = new List<int>();
        for (var i = 0; i < Count; i++)
        {
            var node = Nodes[i];
            if (node.IPv4 is { } v4)
            {
                _v4[i] = ToUInt(v4);
                _hasV4[i] = true;
            }
            AddressText[i] = [.. node.Addresses.Select(a => a.ToString())];
            if (node.ApprovedRoutes.Any(r => !Routes.IsExitRoute(r))) routers.Add(i);
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
        _routers = [.. routers];
        AllNodes = NodeBits.All(Count);
    }

    private readonly uint[] _v4;
    private readonly bool[] _hasV4;
    private readonly int[] _routers;

    /// <summary>Each node's addresses as wire strings (IPv4 first), formatted once per snapshot.</summary>
    public ImmutableArray<string>[] AddressText { get; }

    private static uint ToUInt(IPAddress v4)
    {
        Span<byte> b = stackalloc byte[4];
        v4.TryWriteBytes(b, out _);
        return (uint)(b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]);
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
        if (prefix.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
        {
            // IPv4 prefixes are the common case; compare masked integers instead of IPNetwork.Contains.
            var mask = prefix.PrefixLength == 0 ? 0u : uint.MaxValue << (32 - prefix.PrefixLength);
            var net = ToUInt(prefix.BaseAddress) & mask;
            for (var i = 0; i < Count; i++)
                if (_hasV4[i] && (_v4[i] & mask) == net) bits.Add(i);
        }
        else
        {
            for (var i = 0; i < Count; i++)
                if (Nodes[i].IPv6 is { } v6 && prefix.Contains(v6)) bits.Add(i);
        }
        foreach (var i in _routers)
        {
            foreach (var route in Nodes[i].ApprovedRoutes)
                if (!Routes.IsExitRoute(route) && Routes.Overlaps(route, prefix)) { bits.Add(i); break; }
        }
        return bits;
    }
}
