using System.Collections.Immutable;
using Headscale.Policy.Model;

namespace Headscale.Policy.Compilation;

/// <summary>
/// Per-node views of the tailnet-wide rules: which rules each node is a destination of and a source of.
/// Built once per compilation in time proportional to the rules' sizes, so one node's filter or peer set
/// costs only the rules that concern it, not the whole rule list times the tailnet.
/// </summary>
public sealed class FilterIndex
{
    private readonly ImmutableArray<object> _rules;
    private readonly List<int>[] _dstRules;
    private readonly List<int>[] _srcRules;
    private readonly List<int>[] _viaRules;
    private readonly List<int> _dstAllRules = [];
    private readonly List<int> _srcAllRules = [];
    private readonly int _count;

    public FilterIndex(ImmutableArray<object> rules, int nodeCount)
    {
        _rules = rules;
        _count = nodeCount;
        _dstRules = new List<int>[nodeCount];
        _srcRules = new List<int>[nodeCount];
        _viaRules = new List<int>[nodeCount];
        for (var r = 0; r < rules.Length; r++)
        {
            var (src, dst) = rules[r] switch
            {
                NetworkRule n => (n.SrcNodes, n.DstNodes),
                CapabilityRule c => (c.SrcNodes, c.DstNodes),
                SelfRule s => (s.SrcNodes, s.DstNodes),
                _ => throw new InvalidOperationException("unknown rule kind"),
            };
            AddTo(_srcRules, _srcAllRules, src, r);
            AddTo(_dstRules, _dstAllRules, dst, r);
            if (rules[r] is CapabilityRule { ViaRouters: { } routers })
                foreach (var i in routers.Indexes()) (_viaRules[i] ??= []).Add(r);
        }
    }

    private void AddTo(List<int>[] perNode, List<int> all, NodeBits nodes, int rule)
    {
        if (_count > 0 && nodes.Count == _count) { all.Add(rule); return; }
        foreach (var i in nodes.Indexes()) (perNode[i] ??= []).Add(rule);
    }

    public ImmutableArray<object> Rules => _rules;

    /// <summary>
    /// For each rule, the index of the first rule with the same merge key. The service merges equal-source
    /// rules across the whole policy before distributing them, so a merged rule sits at its first occurrence.
    /// </summary>
    private int[] MergeSlots => _slots ??= ComputeSlots();
    private int[]? _slots;

    private int[] ComputeSlots()
    {
        var first = new Dictionary<string, int>(StringComparer.Ordinal);
        var slots = new int[_rules.Length];
        for (var r = 0; r < _rules.Length; r++)
            slots[r] = _rules[r] switch
            {
                NetworkRule n => first.TryAdd(n.MergeKey, r) ? r : first[n.MergeKey],
                SelfRule s => first.TryAdd(s.MergeKey, r) ? r : first[s.MergeKey],
                _ => r,
            };
        return slots;
    }

    /// <summary>Rule indexes, ascending, in which the node is a destination.</summary>
    public IEnumerable<int> RulesWithDestination(int node) => MergeAscending(_dstAllRules, _dstRules[node]);

    public IEnumerable<int> RulesWithSource(int node) => MergeAscending(_srcAllRules, _srcRules[node]);

    private static IEnumerable<int> MergeAscending(List<int> a, List<int>? b)
    {
        if (b is null) { foreach (var x in a) yield return x; yield break; }
        int i = 0, j = 0;
        while (i < a.Count || j < b.Count)
        {
            if (j >= b.Count || (i < a.Count && a[i] < b[j])) yield return a[i++];
            else if (i >= a.Count || b[j] < a[i]) yield return b[j++];
            else { yield return a[i++]; j++; }
        }
    }

    /// <summary>The node's packet filter: its rules in order, reduced to its entries, equal-source rules merged.</summary>
    public ImmutableArray<FilterRule> FilterFor(int node, AliasResolver resolver)
    {
        var index = resolver.Index;
        var result = new List<FilterRule>();
        var order = new List<int>();
        var slots = MergeSlots;
        var mergeSlots = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var r in RulesWithDestination(node))
        {
            switch (_rules[r])
            {
                case NetworkRule n:
                    var ports = n.EntriesFor(node)
                        .Select(d => new NetPortRange(d.Target.IP, new WirePortRange(d.Ports.First, d.Ports.Last)))
                        .ToList();
                    if (ports.Count == 0) continue;
                    if (mergeSlots.TryGetValue(n.MergeKey, out var slot))
                    {
                        var prev = result[slot];
                        result[slot] = prev with { DstPorts = prev.DstPorts.AddRange(ports) };
                    }
                    else
                    {
                        mergeSlots[n.MergeKey] = result.Count;
                        result.Add(new FilterRule(n.Src, [.. ports], n.Proto, default));
                        order.Add(slots[r]);
                    }
                    break;
                case SelfRule s when index.Nodes[node] is { IsTagged: false, UserEmail: { } owner }:
                    var selfPorts = index.Nodes[node].Addresses
                        .SelectMany(a => s.Ports.Select(p => new NetPortRange(a.ToString(), new WirePortRange(p.First, p.Last))))
                        .ToList();
                    if (mergeSlots.TryGetValue(s.MergeKey, out var selfSlot))
                    {
                        var prev = result[selfSlot];
                        result[selfSlot] = prev with { DstPorts = prev.DstPorts.AddRange(selfPorts) };
                    }
                    else
                    {
                        mergeSlots[s.MergeKey] = result.Count;
                        result.Add(new FilterRule(s.SourcesFor(owner, resolver), [.. selfPorts], s.Proto, default));
                        order.Add(slots[r]);
                    }
                    break;
                case CapabilityRule c:
                    var target = index.Nodes[node];
                    var dsts = target.Addresses.Select(a => $"{a}/{(a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128)}").ToImmutableArray();
                    result.Add(new FilterRule(c.Src, default, default, [new CapGrant(dsts, c.CapMap)]));
                    order.Add(slots[r]);
                    break;
            }
        }
        return [.. result.Select((rule, i) => (rule, slot: order[i])).OrderBy(x => x.slot).Select(x => x.rule)];
    }

    /// <summary>Nodes that may talk to this node or that it may talk to; visibility is symmetric.</summary>
    public NodeBits PeersOf(int node, TailnetIndex index)
    {
        var peers = index.Empty;
        var own = index.Nodes[node] is { IsTagged: false, UserEmail: { } owner } && index.NodesByUser.TryGetValue(owner, out var o) ? o : null;
        foreach (var r in RulesWithDestination(node))
        {
            if (_rules[r] is SelfRule self) { if (own is not null) peers.UnionWith(self.SrcNodes.Intersect(own)); }
            else if (_rules[r] is not NetworkRule { FilterOnlyNodes: { } only } || !only.Contains(node))
                peers.UnionWith(SrcNodes(_rules[r]));
        }
        foreach (var r in RulesWithSource(node))
        {
            if (_rules[r] is SelfRule) { if (own is not null) peers.UnionWith(own); }
            else if (_rules[r] is NetworkRule { FilterOnlyNodes: { } only } n)
                foreach (var i in n.DstNodes.Indexes()) { if (!only.Contains(i)) peers.Add(i); }
            else peers.UnionWith(DstNodes(_rules[r]));
            if (_rules[r] is CapabilityRule { ViaRouters: { } routers }) peers.UnionWith(routers);
        }
        if (_viaRules[node] is { } viaRules)
            foreach (var r in viaRules) peers.UnionWith(SrcNodes(_rules[r]));
        peers.Remove(node);
        return peers;
    }

    private static NodeBits SrcNodes(object rule) => rule is NetworkRule n ? n.SrcNodes : ((CapabilityRule)rule).SrcNodes;
    private static NodeBits DstNodes(object rule) => rule is NetworkRule n ? n.DstNodes : ((CapabilityRule)rule).DstNodes;
}
