using System.Collections.Immutable;
using Headscale.Policy.Model;

namespace Headscale.Policy.Compilation;

/// <summary>One destination entry of a network rule: the address string, its port range and the nodes it concerns.</summary>
public sealed record DestinationPort(DestinationTarget Target, PortRange Ports);

/// <summary>
/// A network rule compiled against the whole tailnet. A node's filter takes the rule when one of its entries
/// concerns that node, keeping only those entries. <see cref="MergeKey"/> identifies rules with equal
/// SrcIPs and IPProto, which the service merges into one rule per node.
/// </summary>
public sealed class NetworkRule
{
    public required ImmutableArray<string> Src { get; init; }
    public required NodeBits SrcNodes { get; init; }
    public required ImmutableArray<int> Proto { get; init; }
    public required ImmutableArray<DestinationPort> Destinations { get; init; }
    public required string MergeKey { get; init; }

    /// <summary>Every node that at least one destination entry concerns.</summary>
    public required NodeBits DstNodes { get; init; }

    /// <summary>True when some entry concerns every node (a <c>*</c> destination).</summary>
    public required bool ConcernsAll { get; init; }

    /// <summary>Destination nodes that receive the rule but do not become peers of its sources (see <see cref="DestinationTarget.PeerVisible"/>).</summary>
    public NodeBits? FilterOnlyNodes { get; init; }

    /// <summary>For a grant with <c>via</c>: the routers that carry the via tags; null otherwise.</summary>
    public NodeBits? Via { get; init; }

    // Built on first use; a reference, so concurrent readers at worst build it twice, never see it torn.
    private EntryIndex? _entryIndex;

    private sealed record EntryIndex(Dictionary<int, List<int>> ByNode, List<int> Broad);

    /// <summary>
    /// The destination entries that concern one node. Entries naming a single node are indexed by that node,
    /// so a rule whose destination is a group of thousands of nodes costs each node only its own entries.
    /// </summary>
    public IEnumerable<DestinationPort> EntriesFor(int node)
    {
        var (byNode, broad) = _entryIndex ??= BuildEntryIndex();
        foreach (var i in broad)
            if (Destinations[i].Target.Concerns(node)) yield return Destinations[i];
        if (byNode.TryGetValue(node, out var own))
            foreach (var i in own) yield return Destinations[i];
    }

    private EntryIndex BuildEntryIndex()
    {
        var byNode = new Dictionary<int, List<int>>();
        var broad = new List<int>();
        for (var i = 0; i < Destinations.Length; i++)
        {
            var single = Destinations[i].Target.SingleNode;
            if (single < 0) broad.Add(i);
            else if (byNode.TryGetValue(single, out var list)) list.Add(i);
            else byNode[single] = [i];
        }
        return new EntryIndex(byNode, broad);
    }
}

/// <summary>An application-capability grant: a CapGrant rule on each destination node.</summary>
public sealed class CapabilityRule
{
    public required ImmutableArray<string> Src { get; init; }
    public required NodeBits SrcNodes { get; init; }
    public required NodeBits DstNodes { get; init; }
    public required ImmutableSortedDictionary<string, ImmutableArray<System.Text.Json.JsonElement>> CapMap { get; init; }

    /// <summary>Prefix destinations (hosts, CIDRs) other than node addresses, written as prefixes.</summary>
    public required ImmutableArray<DestinationTarget> PrefixDestinations { get; init; }

    /// <summary>True when the grant's destinations include <c>*</c>, which reaches every subnet route.</summary>
    public bool ReachesAllRoutes { get; init; }

    /// <summary>
    /// For a grant with <c>via</c>: the tagged routers serving the destination prefixes. They become peers of
    /// the sources (so the route can be steered through them) but receive no capability rule.
    /// </summary>
    public NodeBits? ViaRouters { get; init; }
}

/// <summary>
/// A network rule whose destination is <c>autogroup:self</c>. It is kept as one rule rather than one rule
/// per user: on a user's node it expands to "that user's devices among the sources → this node", computed
/// when the node asks, so the cost does not grow with the number of users.
/// </summary>
public sealed class SelfRule
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, ImmutableArray<string>> _sourcesByUser = new(StringComparer.Ordinal);

    public required NodeBits SrcNodes { get; init; }
    public required ImmutableArray<int> Proto { get; init; }
    public required ImmutableArray<PortRange> Ports { get; init; }
    public required string MergeKey { get; init; }

    /// <summary>Every user-owned node whose owner has at least one device among the sources.</summary>
    public required NodeBits DstNodes { get; init; }

    /// <summary>The owner's devices among the sources, as wire addresses (cached per owner).</summary>
    public ImmutableArray<string> SourcesFor(string owner, AliasResolver resolver) =>
        _sourcesByUser.GetOrAdd(owner, o => resolver.AddressesOf(SrcNodes.Intersect(resolver.Index.NodesByUser[o])));
}
