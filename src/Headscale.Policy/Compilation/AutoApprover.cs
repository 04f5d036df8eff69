using System.Collections.Immutable;
using System.Net;
using Headscale.Policy.Model;
using Headscale.Policy.Snapshot;

namespace Headscale.Policy.Compilation;

/// <summary>
/// Route auto-approval: an announced route is approvable when an <c>autoApprovers.routes</c> prefix contains
/// it and names the node (by tag, owner or group). Exit routes are approvable only through <c>exitNode</c>:
/// a <c>0.0.0.0/0</c> entry under <c>routes</c> does not approve them (as the service behaves).
/// </summary>
public sealed class AutoApprover(PolicyDocument policy, AliasResolver resolver)
{
    private readonly ImmutableArray<(IPNetwork Prefix, NodeBits Approvers)> _routes =
    [
        .. policy.AutoApprovers.Routes
            .Select(r => (Ok: Alias.TryParsePrefix(r.Prefix, out var p, out _), Prefix: p, r.Approvers))
            .Where(r => r.Ok)
            .Select(r => (r.Prefix, Union(resolver, r.Approvers))),
    ];

    private readonly NodeBits _exit = Union(resolver, policy.AutoApprovers.ExitNode);

    private static NodeBits Union(AliasResolver resolver, ImmutableArray<string> aliases)
    {
        var bits = resolver.Index.Empty;
        foreach (var a in aliases) bits.UnionWith(resolver.Nodes(Alias.Parse(a)));
        return bits;
    }

    public ImmutableArray<IPNetwork> Approvable(TailnetNode node)
    {
        var index = resolver.Index.Nodes.IndexOf(node);
        var result = ImmutableArray.CreateBuilder<IPNetwork>();
        foreach (var route in node.AnnouncedRoutes)
        {
            var ok = Routes.IsExitRoute(route) && _exit.Contains(index);
            ok |= !Routes.IsExitRoute(route) && _routes.Any(r => r.Approvers.Contains(index)
                && r.Prefix.BaseAddress.AddressFamily == route.BaseAddress.AddressFamily
                && r.Prefix.PrefixLength <= route.PrefixLength && r.Prefix.Contains(route.BaseAddress));
            if (ok) result.Add(route);
        }
        return result.ToImmutable();
    }
}
