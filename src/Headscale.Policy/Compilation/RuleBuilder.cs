using System.Collections.Immutable;
using System.Text.Json;
using Headscale.Policy.Model;

namespace Headscale.Policy.Compilation;

/// <summary>
/// Compiles the <c>acls</c> and <c>grants</c> of a validated policy into tailnet-wide rules, in the order
/// the service emits them: ACLs first, then grants, each in policy order. <c>autogroup:self</c> destinations
/// become one rule per user, placed after the rule's other destinations.
/// </summary>
public static class RuleBuilder
{
    public static ImmutableArray<object> Build(PolicyDocument policy, AliasResolver resolver)
    {
        var rules = ImmutableArray.CreateBuilder<object>();
        if (policy.HasNoAccessRules)
        {
            var all = resolver.Index.AllNodes;
            rules.Add(Network(resolver, ["*"], all, default, [new DestinationPort(new DestinationTarget("*", null), PortRange.All)]));
            return rules.ToImmutable();
        }
        foreach (var acl in policy.Acls)
        {
            var proto = Protocols.Parse(acl.Proto, out _);
            var dsts = acl.Dst.Select(d => DestinationParser.TryParse(d, out _)).OfType<Destination>().ToList();
            AddIpRules(rules, resolver, acl.Src, proto is null ? default : proto.Value,
                dsts.Select(d => (d.Alias, d.Ports)).ToList());
        }
        foreach (var grant in policy.Grants)
        {
            var dstAliases = grant.Dst.Select(Alias.Parse).ToList();
            var via = ViaNodes(resolver, grant.Via);
            foreach (var (proto, ports) in GrantIpSpecs(grant.Ip))
                AddIpRules(rules, resolver, grant.Src, proto, dstAliases.Select(a => (a, ports)).ToList(), via);
            if (grant.HasApp && !grant.Src.IsDefaultOrEmpty) AddCapabilityRules(rules, resolver, grant, dstAliases, via);
        }
        return rules.ToImmutable();
    }

    /// <summary>Groups a grant's <c>ip</c> list by protocol: one rule per distinct protocol, in first-seen order.</summary>
    public static List<(ImmutableArray<int> Proto, ImmutableArray<PortRange> Ports)> GrantIpSpecs(ImmutableArray<string> ip)
    {
        var groups = new List<(ImmutableArray<int> Proto, List<PortRange> Ports)>();
        foreach (var spec in ip.IsDefault ? [] : ip)
        {
            ImmutableArray<int> proto = default;
            var portsText = spec;
            var colon = spec.IndexOf(':');
            if (colon >= 0)
            {
                var p = Protocols.Parse(spec[..colon], out _);
                proto = p is null ? default : p.Value;
                portsText = spec[(colon + 1)..];
            }
            var ports = DestinationParser.ParsePorts(portsText, out var error);
            if (error is not null) continue;
            var existing = groups.FindIndex(g => SameProto(g.Proto, proto));
            if (existing < 0) groups.Add((proto, [.. ports]));
            else groups[existing].Ports.AddRange(ports);
        }
        return [.. groups.Select(g => (g.Proto, g.Ports.ToImmutableArray()))];
    }

    private static bool SameProto(ImmutableArray<int> a, ImmutableArray<int> b) =>
        a.IsDefault ? b.IsDefault : !b.IsDefault && a.SequenceEqual(b);

    /// <summary>Nodes carrying any of a grant's <c>via</c> tags, or null when the grant has no <c>via</c>.</summary>
    private static NodeBits? ViaNodes(AliasResolver resolver, ImmutableArray<string> via)
    {
        if (via.IsDefaultOrEmpty) return null;
        var bits = resolver.Index.Empty;
        foreach (var tag in via) bits.UnionWith(resolver.Nodes(Alias.Parse(tag)));
        return bits;
    }

    private static void AddIpRules(
        ImmutableArray<object>.Builder rules, AliasResolver resolver, ImmutableArray<string> src,
        ImmutableArray<int> proto, List<(Alias Alias, ImmutableArray<PortRange> Ports)> dsts, NodeBits? via = null)
    {
        var plain = new List<DestinationPort>();
        var selfPorts = new List<PortRange>();
        foreach (var (alias, ports) in dsts)
        {
            if (alias.IsAutoGroup(Alias.AutoGroupSelf)) { selfPorts.AddRange(ports); continue; }
            foreach (var target in resolver.Destinations(alias))
            {
                // A via grant is delivered only to the routers carrying the via tag.
                var t = via is null ? target : target.RestrictTo(via);
                if (t is null) continue;
                foreach (var p in ports) plain.Add(new DestinationPort(t, p));
            }
        }
        // Destinations first: a rule that reaches no node is dropped without expanding its sources.
        var (srcEntries, srcNodes) = plain.Count > 0 ? ResolveSources(resolver, src) : ([], SourceNodes(resolver, src));
        if (plain.Count > 0 && srcEntries.Length > 0)
        {
            var rule = Network(resolver, srcEntries, srcNodes, proto, plain);
            rules.Add(via is null ? rule : new NetworkRule
            {
                Src = rule.Src, SrcNodes = rule.SrcNodes, Proto = rule.Proto, Destinations = rule.Destinations,
                MergeKey = rule.MergeKey + "|via", DstNodes = rule.DstNodes, ConcernsAll = rule.ConcernsAll, Via = via,
                FilterOnlyNodes = rule.FilterOnlyNodes,
            });
        }
        if (selfPorts.Count == 0) return;
        var selfSources = srcNodes.Intersect(resolver.Index.Members);
        if (selfSources.IsEmpty) return;
        var dstNodes = resolver.Index.Empty;
        foreach (var (_, userNodes) in resolver.Index.NodesByUser)
            if (!userNodes.Intersect(selfSources).IsEmpty) dstNodes.UnionWith(userNodes);
        rules.Add(new SelfRule
        {
            SrcNodes = selfSources, Proto = proto, Ports = [.. selfPorts], DstNodes = dstNodes,
            // Two self rules with the same sources give every user the same SrcIPs, so they merge.
            MergeKey = "self|" + string.Join(",", src.Order(StringComparer.Ordinal)) + "|" + (proto.IsDefault ? "" : string.Join(",", proto)),
        });
    }

    /// <summary>The nodes covered by a source list, without formatting their addresses.</summary>
    public static NodeBits SourceNodes(AliasResolver resolver, ImmutableArray<string> src)
    {
        var nodes = resolver.Index.Empty;
        foreach (var token in src)
        {
            var alias = Alias.Parse(token);
            nodes.UnionWith(alias.Kind switch
            {
                AliasKind.Host or AliasKind.Prefix or AliasKind.Wildcard => resolver.Source(alias).Nodes,
                _ => resolver.Nodes(alias),
            });
        }
        return nodes;
    }

    public static (ImmutableArray<string> Entries, NodeBits Nodes) ResolveSources(AliasResolver resolver, ImmutableArray<string> src)
    {
        var entries = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var nodes = resolver.Index.Empty;
        foreach (var token in src)
        {
            var set = resolver.Source(Alias.Parse(token));
            foreach (var e in set.Entries) if (seen.Add(e)) entries.Add(e);
            nodes.UnionWith(set.Nodes);
        }
        return ([.. entries], nodes);
    }

    private static NetworkRule Network(AliasResolver resolver, ImmutableArray<string> src, NodeBits srcNodes, ImmutableArray<int> proto, List<DestinationPort> dsts)
    {
        var dstNodes = resolver.Index.Empty;
        var all = false;
        foreach (var d in dsts)
        {
            if (d.Target.IsAll) all = true;
            else d.Target.AddNodesTo(dstNodes);
        }
        if (all) dstNodes = resolver.Index.AllNodes;
        NodeBits? filterOnly = null;
        if (!all && dsts.Any(d => !d.Target.PeerVisible))
        {
            var visible = resolver.Index.Empty;
            foreach (var d in dsts) if (d.Target.PeerVisible) d.Target.AddNodesTo(visible);
            filterOnly = resolver.Index.Empty;
            foreach (var i in dstNodes.Indexes()) if (!visible.Contains(i)) filterOnly.Add(i);
        }
        var key = string.Join(",", src.Order(StringComparer.Ordinal)) + "|" + (proto.IsDefault ? "" : string.Join(",", proto));
        return new NetworkRule
        {
            Src = src, SrcNodes = srcNodes, Proto = proto, Destinations = [.. dsts],
            MergeKey = key, DstNodes = dstNodes, ConcernsAll = all, FilterOnlyNodes = filterOnly,
        };
    }

    private static void AddCapabilityRules(ImmutableArray<object>.Builder rules, AliasResolver resolver, GrantEntry grant, List<Alias> dstAliases, NodeBits? via)
    {
        // Unlike network rules, capability grants are sent even when the sources resolve to nothing.
        var (srcEntries, srcNodes) = ResolveSources(resolver, grant.Src);
        var capMap = grant.App.ToImmutableSortedDictionary(
            c => c.Name,
            c => c.ValuesJson.Select(v => JsonDocument.Parse(v).RootElement.Clone()).ToImmutableArray(),
            StringComparer.Ordinal);
        var dstNodes = resolver.Index.Empty;
        var prefixes = ImmutableArray.CreateBuilder<DestinationTarget>();
        var self = false;
        foreach (var alias in dstAliases)
        {
            if (alias.IsAutoGroup(Alias.AutoGroupSelf)) { self = true; continue; }
            if (alias.Kind is AliasKind.Prefix or AliasKind.Host)
            {
                // Capabilities apply to nodes, so a prefix names the nodes whose own address it holds,
                // never the routers of a subnet inside it.
                var prefix = alias.Kind == AliasKind.Prefix ? alias.Prefix : resolver.HostPrefix(alias.Text)?.Prefix;
                if (prefix is { } p)
                    for (var i = 0; i < resolver.Index.Count; i++)
                        if (resolver.Index.Nodes[i].Addresses.Any(p.Contains)) dstNodes.Add(i);
                foreach (var t in resolver.Destinations(alias)) prefixes.Add(t);
            }
            else dstNodes.UnionWith(resolver.Nodes(alias));
        }
        NodeBits? viaRouters = null;
        if (via is not null)
        {
            viaRouters = resolver.Index.Empty;
            foreach (var t in prefixes)
                t.RestrictTo(via)?.AddNodesTo(viaRouters);
        }
        if (!dstNodes.IsEmpty || viaRouters is { IsEmpty: false })
            AddWithCompanions(rules, new CapabilityRule { Src = srcEntries, SrcNodes = srcNodes, DstNodes = dstNodes, CapMap = capMap, PrefixDestinations = prefixes.ToImmutable(), ReachesAllRoutes = dstAliases.Any(a => a.Kind == AliasKind.Wildcard), ViaRouters = viaRouters });
        if (!self) return;
        foreach (var (_, userNodes) in resolver.Index.NodesByUser)
        {
            var allowed = srcNodes.Intersect(userNodes);
            if (allowed.IsEmpty) continue;
            AddWithCompanions(rules, new CapabilityRule { Src = resolver.AddressesOf(allowed), SrcNodes = allowed, DstNodes = userNodes, CapMap = capMap, PrefixDestinations = [] });
        }
    }

    /// <summary>Capabilities that the service pairs with a companion capability, sent as a separate rule.</summary>
    private static readonly (string Capability, string Companion)[] Companions =
    [
        ("tailscale.com/cap/drive", "tailscale.com/cap/drive-sharer"),
        ("tailscale.com/cap/relay", "tailscale.com/cap/relay-target"),
    ];

    /// <summary>Adds a capability rule followed by one companion rule per paired capability it grants.</summary>
    private static void AddWithCompanions(ImmutableArray<object>.Builder rules, CapabilityRule rule)
    {
        rules.Add(rule);
        foreach (var (capability, companion) in Companions)
        {
            if (!rule.CapMap.ContainsKey(capability)) continue;
            rules.Add(new CapabilityRule
            {
                Src = rule.Src, SrcNodes = rule.SrcNodes, DstNodes = rule.DstNodes, PrefixDestinations = rule.PrefixDestinations,
                ReachesAllRoutes = rule.ReachesAllRoutes, ViaRouters = rule.ViaRouters,
                CapMap = ImmutableSortedDictionary.Create<string, ImmutableArray<JsonElement>>(StringComparer.Ordinal).Add(companion, []),
            });
        }
    }
}
