using System.Collections.Immutable;
using System.Net;
using Headscale.Policy.Model;
using Headscale.Policy.Snapshot;

namespace Headscale.Policy.Compilation;

/// <summary>What one node is shown about itself or a peer: the prefixes it routes and the routes it is primary for.</summary>
public sealed record NodeView(ImmutableArray<IPNetwork> Addresses, ImmutableArray<IPNetwork> AllowedIPs, ImmutableArray<IPNetwork> PrimaryRoutes);

/// <summary>
/// Subnet-route elections and per-viewer route visibility. Among nodes with the same approved route the one
/// registered first is primary. A peer's routes are shown to a viewer only when some rule lets the viewer
/// reach them; exit routes only through <c>autogroup:internet</c>.
/// </summary>
public sealed class RouteView
{
    private readonly TailnetIndex _index;
    private readonly FilterIndex _filters;
    private readonly Dictionary<IPNetwork, int> _primary = [];

    public RouteView(TailnetIndex index, FilterIndex filters)
    {
        _index = index;
        _filters = filters;
        for (var i = 0; i < index.Count; i++)
        {
            foreach (var route in index.Nodes[i].ApprovedRoutes)
            {
                if (Routes.IsExitRoute(route)) continue;
                if (!_primary.TryGetValue(route, out var current) || index.Nodes[current].RegistrationOrder > index.Nodes[i].RegistrationOrder)
                    _primary[route] = i;
            }
        }
    }

    /// <summary>Nodes with the <c>disable-ipv4</c> attribute: they are shown, and see their peers, without IPv4.</summary>
    internal Func<int, bool> WithoutIPv4 { get; set; } = _ => false;

    private ImmutableArray<IPNetwork> Visible(ImmutableArray<IPNetwork> prefixes, int viewer, int subject) =>
        WithoutIPv4(viewer) || WithoutIPv4(subject)
            ? [.. prefixes.Where(p => !(p.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && p.PrefixLength == 32 && _index.Nodes[subject].IPv4 is { } v4 && p.BaseAddress.Equals(v4)))]
            : prefixes;

    public bool IsPrimary(int node, IPNetwork route) => _primary.TryGetValue(route, out var p) && p == node;

    public static ImmutableArray<IPNetwork> HostPrefixes(TailnetNode node) =>
        [.. node.Addresses.Select(a => new IPNetwork(a, a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128))];

    public NodeView SelfView(int node)
    {
        var n = _index.Nodes[node];
        var addresses = HostPrefixes(n);
        return new NodeView(Visible(addresses, node, node), Visible([.. addresses, .. n.ApprovedRoutes], node, node),
            [.. n.ApprovedRoutes.Where(r => !Routes.IsExitRoute(r) && IsPrimary(node, r))]);
    }

    public NodeView PeerView(int viewer, int peer)
    {
        var p = _index.Nodes[peer];
        var addresses = HostPrefixes(p);
        var reach = Reach(viewer);
        var allowed = new List<IPNetwork>(addresses);
        var primary = new List<IPNetwork>();
        var steered = ViaSteering(viewer);
        foreach (var route in p.ApprovedRoutes)
        {
            if (!Routes.IsExitRoute(route) && steered.TryGetValue(route, out var chosen))
            {
                if (chosen == peer) { allowed.Add(route); primary.Add(route); }
                continue;
            }
            if (Routes.IsExitRoute(route))
            {
                if (reach.InternetVia.Contains(peer)) allowed.Add(route);
                continue;
            }
            if (!IsPrimary(peer, route)) continue;
            // A standby router of the same route always sees the primary's route, so it can fail over.
            var standby = _index.Nodes[viewer].ApprovedRoutes.Contains(route);
            if (standby || reach.All || reach.Prefixes.Any(x => Routes.Overlaps(x, route)))
            {
                allowed.Add(route);
                primary.Add(route);
            }
        }
        return new NodeView(Visible(addresses, viewer, peer), Visible([.. allowed], viewer, peer), [.. primary]);
    }

    /// <summary>
    /// Per-viewer primaries from via grants: for a viewer in a via grant's sources, each route inside the
    /// grant's destinations is served by the first-registered router carrying the via tag.
    /// </summary>
    private Dictionary<IPNetwork, int> ViaSteering(int viewer)
    {
        var chosen = new Dictionary<IPNetwork, int>();
        var direct = new List<IPNetwork>();
        foreach (var r in _filters.RulesWithSource(viewer))
        {
            if (_filters.Rules[r] is NetworkRule { Via: null } plainRule)
                foreach (var d in plainRule.Destinations)
                    if (Alias.TryParsePrefix(d.Target.IP, out var reached, out _)) direct.Add(reached);
            var (via, targets) = _filters.Rules[r] switch
            {
                NetworkRule { Via: { } v } n => (v, n.Destinations.Select(d => d.Target.IP)),
                CapabilityRule { ViaRouters: { } v } c => (v, c.PrefixDestinations.Select(t => t.IP)),
                _ => (null, []),
            };
            if (via is null) continue;
            foreach (var ip in targets)
            {
                if (!Alias.TryParsePrefix(ip, out var dst, out _)) continue;
                foreach (var i in via.Indexes())
                    foreach (var route in _index.Nodes[i].ApprovedRoutes)
                    {
                        if (Routes.IsExitRoute(route) || !Routes.Overlaps(route, dst)) continue;
                        if (!chosen.TryGetValue(route, out var current) || _index.Nodes[current].RegistrationOrder > _index.Nodes[i].RegistrationOrder)
                            chosen[route] = i;
                    }
            }
        }
        // A grant without via that also reaches the route leaves the normal HA primary in charge.
        foreach (var route in chosen.Keys.ToList())
            if (direct.Any(d => Routes.Overlaps(d, route))) chosen.Remove(route);
        return chosen;
    }

    private sealed record Reachability(bool All, List<IPNetwork> Prefixes, NodeBits InternetVia);

    private Reachability Reach(int viewer)
    {
        var all = false;
        var prefixes = new List<IPNetwork>();
        var internet = _index.Empty;
        foreach (var r in _filters.RulesWithSource(viewer))
        {
            switch (_filters.Rules[r])
            {
                case NetworkRule n:
                    foreach (var d in n.Destinations)
                    {
                        if (d.Target.IP == "*") { all = true; internet.UnionWith(_index.ExitNodes); }
                        else if (AliasResolver.InternetRanges.Contains(d.Target.IP)) d.Target.AddNodesTo(internet);
                        else if (Alias.TryParsePrefix(d.Target.IP, out var prefix, out _)) prefixes.Add(prefix);
                    }
                    break;
                case CapabilityRule c:
                    all |= c.ReachesAllRoutes;
                    foreach (var t in c.PrefixDestinations)
                        if (Alias.TryParsePrefix(t.IP, out var prefix, out _)) prefixes.Add(prefix);
                    break;
            }
        }
        // Traffic from a subnet behind a peer to this viewer returns through that peer, so routes named in
        // the sources of rules that deliver to the viewer are shown too.
        foreach (var r in _filters.RulesWithDestination(viewer))
        {
            var src = _filters.Rules[r] switch { NetworkRule n => n.Src, CapabilityRule c => c.Src, _ => [] };
            foreach (var s in src)
            {
                if (s == "*") all = true;
                else if (Alias.TryParsePrefix(s, out var prefix, out _) && !prefix.Equals(default(IPNetwork))) prefixes.Add(prefix);
            }
        }
        return new Reachability(all, prefixes, internet);
    }
}
