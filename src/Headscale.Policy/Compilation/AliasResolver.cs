using System.Collections.Immutable;
using System.Net;
using Headscale.Policy.Model;

namespace Headscale.Policy.Compilation;

/// <summary>The addresses a source alias expands to (as wire strings) and the nodes it covers.</summary>
public sealed record SourceSet(ImmutableArray<string> Entries, NodeBits Nodes);

/// <summary>
/// One destination address string and the nodes whose filter it belongs in (null: every node).
/// <see cref="PeerVisible"/> is false for a bare IPv6 node address: the service delivers such a rule but
/// does not make its sources peers of that node (corpus: policytest-allpass-grants-only-tag-src-ipv6-literal-dst).
/// </summary>
public sealed record DestinationTarget(string IP, NodeBits? Nodes, bool PeerVisible = true, int SingleNode = -1)
{
    /// <summary>A node's own address: it concerns that node only (kept as an index, not a set, so large groups stay cheap).</summary>
    public static DestinationTarget ForNode(string ip, int node) => new(ip, null, true, node);

    public bool IsAll => SingleNode < 0 && Nodes is null;

    public bool Concerns(int node) => SingleNode >= 0 ? SingleNode == node : Nodes is null || Nodes.Contains(node);

    public void AddNodesTo(NodeBits bits)
    {
        if (SingleNode >= 0) bits.Add(SingleNode);
        else if (Nodes is not null) bits.UnionWith(Nodes);
    }

    /// <summary>Limits the target to the given nodes; null when nothing is left.</summary>
    public DestinationTarget? RestrictTo(NodeBits allowed) =>
        SingleNode >= 0 ? (allowed.Contains(SingleNode) ? this : null)
        : Nodes is null ? this
        : this with { Nodes = Nodes.Intersect(allowed) };
}

/// <summary>
/// Expands aliases against a <see cref="TailnetIndex"/>, following the hosted service's address rules:
/// node-based aliases give both addresses of each node as bare IPs, hosts and literal prefixes keep the
/// family and form that was written, and <c>*</c> as a source is the tailnet's CGNAT and ULA ranges plus
/// every approved subnet route.
/// </summary>
public sealed class AliasResolver
{
    /// <summary>CGNAT minus 100.115.92.0/23 (reserved by Tailscale), written as the service writes it.</summary>
    public static readonly ImmutableArray<string> TailnetRanges =
        ["100.64.0.0-100.115.91.255", "100.115.94.0-100.127.255.255", "fd7a:115c:a1e0::/48"];

    /// <summary>The public internet as the service writes <c>autogroup:internet</c> for an exit node.</summary>
    public static readonly ImmutableArray<string> InternetRanges =
    [
        "0.0.0.0-9.255.255.255", "11.0.0.0-100.63.255.255", "100.128.0.0-169.253.255.255",
        "169.255.0.0-172.15.255.255", "172.32.0.0-192.167.255.255", "192.169.0.0-255.255.255.255",
        "2000::-3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
    ];

    private readonly TailnetIndex _index;
    private readonly Dictionary<string, ImmutableArray<string>> _groups;
    private readonly Dictionary<string, string> _hosts;

    public AliasResolver(PolicyDocument policy, TailnetIndex index)
    {
        _index = index;
        _groups = policy.Groups.GroupBy(g => g.Name).ToDictionary(g => g.Key, g => g.Last().Members, StringComparer.Ordinal);
        _hosts = policy.Hosts.GroupBy(h => h.Name).ToDictionary(h => h.Key, h => h.Last().Value, StringComparer.Ordinal);
    }

    public TailnetIndex Index => _index;

    /// <summary>The nodes an alias names (users, groups, tags, autogroups, hosts and prefixes by address).</summary>
    public NodeBits Nodes(Alias alias)
    {
        switch (alias.Kind)
        {
            case AliasKind.Wildcard: return _index.AllNodes;
            case AliasKind.User: return UserNodes(alias.Text);
            case AliasKind.Group:
                var bits = _index.Empty;
                if (_groups.TryGetValue(alias.Text, out var members))
                    foreach (var m in members) bits.UnionWith(UserNodes(m));
                return bits;
            case AliasKind.Tag: return _index.NodesByTag.TryGetValue(alias.Text, out var t) ? t : _index.Empty;
            case AliasKind.Host:
                return HostPrefix(alias.Text) is { } hp ? _index.NodesTouching(hp.Prefix) : _index.Empty;
            case AliasKind.Prefix: return _index.NodesTouching(alias.Prefix);
            case AliasKind.AutoGroup:
                return alias.Text switch
                {
                    Alias.AutoGroupMember => _index.Members,
                    Alias.AutoGroupTagged => _index.Tagged,
                    Alias.AutoGroupDangerAll => _index.AllNodes,
                    Alias.AutoGroupInternet => _index.ExitNodes,
                    _ => _index.Empty,
                };
            default: return _index.Empty;
        }
    }

    public NodeBits UserNodes(string user)
    {
        if (user.StartsWith("user:", StringComparison.Ordinal)) user = user[5..];
        if (user.StartsWith("*@", StringComparison.Ordinal))
        {
            var domain = user[2..];
            var bits = _index.Empty;
            foreach (var (email, nodes) in _index.NodesByUser)
                if (email.EndsWith("@" + domain, StringComparison.Ordinal)) bits.UnionWith(nodes);
            return bits;
        }
        if (_index.NodesByUser.TryGetValue(user, out var direct)) return direct;
        if (user.EndsWith('@'))
        {
            var name = user[..^1];
            var match = _index.Snapshot.Users.FirstOrDefault(u => u.Name == name);
            if (match is not null && _index.NodesByUser.TryGetValue(match.Email, out var byName)) return byName;
        }
        return _index.Empty;
    }

    public (IPNetwork Prefix, bool Single)? HostPrefix(string name) =>
        _hosts.TryGetValue(name, out var value) && Alias.TryParsePrefix(value, out var p, out var single) ? (p, single) : null;

    public SourceSet Source(Alias alias)
    {
        switch (alias.Kind)
        {
            case AliasKind.Wildcard:
                return new SourceSet([.. TailnetRanges, .. _index.ApprovedSubnetRoutes.Select(r => r.ToString())], _index.AllNodes);
            case AliasKind.AutoGroup when alias.Text == Alias.AutoGroupDangerAll:
                return new SourceSet(["*"], _index.AllNodes);
            case AliasKind.Host:
                return HostPrefix(alias.Text) is { } hp
                    ? new SourceSet([PrefixText(hp.Prefix, hp.Single)], _index.NodesTouching(hp.Prefix))
                    : new SourceSet([], _index.Empty);
            case AliasKind.Prefix:
                return new SourceSet([PrefixText(alias.Prefix, alias.IsSingleAddress)], _index.NodesTouching(alias.Prefix));
            default:
                var nodes = Nodes(alias);
                return new SourceSet(AddressesOf(nodes), nodes);
        }
    }

    public ImmutableArray<string> AddressesOf(NodeBits nodes)
    {
        var list = ImmutableArray.CreateBuilder<string>();
        foreach (var i in nodes.Indexes()) list.AddRange(_index.AddressText[i]);
        return list.ToImmutable();
    }

    /// <summary>Destination targets of an alias other than <c>autogroup:self</c>, which is expanded per user.</summary>
    public ImmutableArray<DestinationTarget> Destinations(Alias alias)
    {
        switch (alias.Kind)
        {
            case AliasKind.Wildcard:
                return [new DestinationTarget("*", null)];
            case AliasKind.AutoGroup when alias.Text == Alias.AutoGroupInternet:
                var exits = _index.ExitNodes;
                return exits.IsEmpty ? [] : [.. InternetRanges.Select(r => new DestinationTarget(r, exits))];
            case AliasKind.Host:
                return HostPrefix(alias.Text) is { } hp
                    ? [new DestinationTarget(PrefixText(hp.Prefix, hp.Single), _index.NodesTouching(hp.Prefix))]
                    : [];
            case AliasKind.Prefix:
                return [new DestinationTarget(PrefixText(alias.Prefix, alias.IsSingleAddress), _index.NodesTouching(alias.Prefix),
                    PeerVisible: !(alias.IsSingleAddress && alias.Prefix.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6))];
            default:
                return NodeTargets(Nodes(alias));
        }
    }

    public ImmutableArray<DestinationTarget> NodeTargets(NodeBits nodes)
    {
        var list = ImmutableArray.CreateBuilder<DestinationTarget>();
        foreach (var i in nodes.Indexes())
            foreach (var a in _index.AddressText[i]) list.Add(DestinationTarget.ForNode(a, i));
        return list.ToImmutable();
    }

    /// <summary>Single-address prefixes are written as bare IPs, whether the policy wrote "/32" or not.</summary>
    public static string PrefixText(IPNetwork prefix, bool single) =>
        single || prefix.PrefixLength == (prefix.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128)
            ? prefix.BaseAddress.ToString()
            : prefix.ToString();
}
