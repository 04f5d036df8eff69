using System.Collections.Immutable;
using System.Text.Json;
using Headscale.Policy.Model;

namespace Headscale.Policy.Compilation;

/// <summary>
/// Node capabilities from <c>nodeAttrs</c> (and <c>randomizeClientPort</c>) on top of the baseline every node
/// receives: SSH, Taildrop file sharing and the tailnet's default auto-update setting.
/// </summary>
public sealed class NodeAttributes
{
    public const string DisableIPv4 = "disable-ipv4";
    private static readonly JsonElement False = JsonDocument.Parse("false").RootElement.Clone();
    private static readonly JsonElement True = JsonDocument.Parse("true").RootElement.Clone();

    private readonly AliasResolver _resolver;
    private readonly List<(NodeBits Targets, ImmutableArray<string> Attrs)> _entries = [];

    public NodeAttributes(PolicyDocument policy, AliasResolver resolver)
    {
        _resolver = resolver;
        foreach (var entry in policy.NodeAttrs)
        {
            var targets = resolver.Index.Empty;
            foreach (var t in entry.Target) targets.UnionWith(Targets(Alias.Parse(t)));
            _entries.Add((targets, entry.Attr.IsDefault ? [] : entry.Attr));
        }
        if (policy.RandomizeClientPort) _entries.Add((resolver.Index.AllNodes, ["randomize-client-port"]));
    }

    private NodeBits Targets(Alias alias)
    {
        if (alias.Text == "autogroup:admin") return _resolver.Index.Members;
        if (alias.Text == "autogroup:owner")
            return _resolver.Index.Snapshot.OwnerEmail is { } owner ? _resolver.UserNodes(owner) : _resolver.Index.Empty;
        return _resolver.Nodes(alias);
    }

    public bool DisablesIPv4(int node) => _entries.Any(e => e.Targets.Contains(node) && e.Attrs.Contains(DisableIPv4));

    /// <summary>
    /// What peers see of a node's capabilities: only <c>suggest-exit-node</c>, and only on a node that is an
    /// approved exit node (the hint is meaningless otherwise).
    /// </summary>
    public ImmutableSortedDictionary<string, ImmutableArray<JsonElement>> PeerCapabilitiesOf(int node)
    {
        var empty = ImmutableSortedDictionary.Create<string, ImmutableArray<JsonElement>>(StringComparer.Ordinal);
        var suggested = _resolver.Index.ExitNodes.Contains(node)
            && _entries.Any(e => e.Targets.Contains(node) && e.Attrs.Contains("suggest-exit-node"));
        return suggested ? empty.Add("suggest-exit-node", []) : empty;
    }

    public ImmutableSortedDictionary<string, ImmutableArray<JsonElement>> CapabilitiesOf(int node)
    {
        var caps = ImmutableSortedDictionary.CreateBuilder<string, ImmutableArray<JsonElement>>(StringComparer.Ordinal);
        caps["https://tailscale.com/cap/ssh"] = [];
        caps["https://tailscale.com/cap/file-sharing"] = [];
        caps["default-auto-update"] = [_resolver.Index.Snapshot.DevicesAutoUpdate ? True : False];
        foreach (var (targets, attrs) in _entries)
            if (targets.Contains(node))
                foreach (var a in attrs) caps.TryAdd(a, []);
        return caps.ToImmutable();
    }
}
