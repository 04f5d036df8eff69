using System.Collections.Immutable;
using Headscale.Policy.Compilation;
using Headscale.Policy.Snapshot;

namespace Headscale.Policy;

/// <summary>
/// A policy compiled over one immutable <see cref="TailnetSnapshot"/>. Building it indexes rules by the nodes
/// they concern; each per-node query then touches only those rules. Per-node results are computed on demand,
/// so recomputing one node after a change costs that node's rules, not the tailnet's.
/// </summary>
public sealed class CompiledPolicy
{
    private readonly FilterIndex _filters;
    private readonly SshCompiler _ssh;
    private readonly RouteView _routes;
    private readonly AutoApprover _approver;
    private readonly NodeAttributes _attributes;
    private readonly Dictionary<ulong, int> _byId;
    private readonly AliasResolver _resolver;

    private CompiledPolicy(ParsedPolicy policy, TailnetSnapshot snapshot, string controlUrl)
    {
        Policy = policy;
        Index = new TailnetIndex(snapshot);
        var resolver = _resolver = new AliasResolver(policy.Document, Index);
        _filters = new FilterIndex(RuleBuilder.Build(policy.Document, resolver), Index.Count);
        _ssh = new SshCompiler(policy.Document, resolver, controlUrl);
        _routes = new RouteView(Index, _filters);
        _approver = new AutoApprover(policy.Document, resolver);
        _attributes = new NodeAttributes(policy.Document, resolver);
        _routes.WithoutIPv4 = _attributes.DisablesIPv4;
        _byId = new Dictionary<ulong, int>(Index.Count);
        for (var i = 0; i < Index.Count; i++) _byId[Index.Nodes[i].Id] = i;
    }

    public ParsedPolicy Policy { get; }
    public TailnetIndex Index { get; }

    /// <summary>Number of tailnet-wide rules after expansion (for diagnostics and benchmarks).</summary>
    public int RuleCount => _filters.Rules.Length;

    public static CompiledPolicy Compile(ParsedPolicy policy, TailnetSnapshot snapshot, string controlUrl = "https://unused") =>
        new(policy, snapshot, controlUrl);

    private int IndexOf(ulong nodeId) =>
        _byId.TryGetValue(nodeId, out var i) ? i : throw new KeyNotFoundException($"node {nodeId} is not in the snapshot");

    public ImmutableArray<FilterRule> PacketFilter(ulong nodeId) => _filters.FilterFor(IndexOf(nodeId), _resolver);

    public ImmutableArray<SshRule> SshRules(ulong nodeId) => _ssh.RulesFor(IndexOf(nodeId));

    /// <summary>The node's peers as a set of positions in <see cref="Index"/>'s node list (the form the rules are compiled to).</summary>
    public Compilation.NodeBits PeerBits(ulong nodeId) => _filters.PeersOf(IndexOf(nodeId), Index);

    public ImmutableArray<TailnetNode> Peers(ulong nodeId) =>
        [.. _filters.PeersOf(IndexOf(nodeId), Index).Indexes().Select(i => Index.Nodes[i])];

    public NodeView SelfView(ulong nodeId) => _routes.SelfView(IndexOf(nodeId));

    public NodeView PeerView(ulong viewerId, ulong peerId) => _routes.PeerView(IndexOf(viewerId), IndexOf(peerId));

    /// <summary>The node's own capability map: the tailnet baseline plus its <c>nodeAttrs</c>.</summary>
    public ImmutableSortedDictionary<string, ImmutableArray<System.Text.Json.JsonElement>> Capabilities(ulong nodeId) =>
        _attributes.CapabilitiesOf(IndexOf(nodeId));

    /// <summary>The capabilities a peer is shown for this node.</summary>
    public ImmutableSortedDictionary<string, ImmutableArray<System.Text.Json.JsonElement>> PeerCapabilities(ulong nodeId) =>
        _attributes.PeerCapabilitiesOf(IndexOf(nodeId));

    /// <summary>Which of the node's announced routes the policy's autoApprovers would approve.</summary>
    public ImmutableArray<System.Net.IPNetwork> ApprovableRoutes(ulong nodeId) => _approver.Approvable(Index.Nodes[IndexOf(nodeId)]);
}
