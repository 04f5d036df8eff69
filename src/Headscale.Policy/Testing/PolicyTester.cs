using System.Collections.Immutable;
using System.Net;
using Headscale.Policy.Compilation;
using Headscale.Policy.Model;

namespace Headscale.Policy.Testing;

/// <summary>The outcome of one entry of <c>tests</c> or <c>sshTests</c>.</summary>
public sealed record TestOutcome(string Section, int Index, bool Passed, string Detail);

/// <summary>
/// Runs a policy's <c>tests</c> against its compiled network rules: every accepted destination must be
/// reachable from every source address of the same family, and no denied one may be. A malformed entry
/// (no src, neither accept nor deny, a port list or wildcard, an unknown alias) fails.
/// </summary>
public sealed class PolicyTester(PolicyDocument policy, AliasResolver resolver, ImmutableArray<object> rules)
{
    private static readonly ImmutableArray<int> DefaultProtocols = [6, 17, 1, 58];

    public IEnumerable<TestOutcome> Run()
    {
        for (var i = 0; i < policy.Tests.Length; i++)
        {
            var t = policy.Tests[i];
            yield return new TestOutcome("tests", i, Evaluate(t, out var detail), detail);
        }
    }

    private bool Evaluate(AclTest test, out string detail)
    {
        detail = "";
        if (string.IsNullOrEmpty(test.Src)) { detail = "missing src"; return false; }
        if (test.Accept.IsDefaultOrEmpty && test.Deny.IsDefaultOrEmpty) { detail = "neither accept nor deny"; return false; }
        var proto = 6;
        if (test.Proto is { Length: > 0 })
        {
            var p = Protocols.Parse(test.Proto, out var error);
            if (error is not null || p is null) { detail = error ?? "bad proto"; return false; }
            proto = p.Value[0];
        }
        var sources = Addresses(Alias.Parse(test.Src), isSource: true);
        if (sources is null || sources.Count == 0) { detail = $"src {test.Src} matches no address"; return false; }
        foreach (var (list, expect) in new[] { (test.Accept, true), (test.Deny, false) })
        {
            foreach (var d in list.IsDefault ? [] : list)
            {
                var dst = DestinationParser.TryParse(d, out var error);
                if (dst is null || dst.Ports.Length != 1 || dst.Ports[0].First != dst.Ports[0].Last || dst.PortsText == "*")
                { detail = error ?? $"dst {d}: a test needs one port"; return false; }
                var targets = Addresses(dst.Alias, isSource: false);
                if (targets is null || targets.Count == 0) { detail = $"dst {d} matches no address"; return false; }
                var pairs = 0;
                foreach (var s in sources)
                    foreach (var t in targets.Where(t => t.AddressFamily == s.AddressFamily))
                    {
                        pairs++;
                        if (Allowed(s, t, dst.Ports[0].First, proto) != expect)
                        { detail = $"{(expect ? "accept" : "deny")} {test.Src} -> {d} failed for {s} -> {t}"; return false; }
                    }
                if (pairs == 0) { detail = $"{test.Src} and {d} share no address family"; return false; }
            }
        }
        return true;
    }

    /// <summary>Concrete addresses of an alias for testing; null when it names something undefined.</summary>
    private List<IPAddress>? Addresses(Alias alias, bool isSource)
    {
        switch (alias.Kind)
        {
            case AliasKind.Prefix: return alias.IsSingleAddress ? [alias.Prefix.BaseAddress] : null;
            case AliasKind.Host:
                var hp = resolver.HostPrefix(alias.Text);
                return hp is { Single: true } ? [hp.Value.Prefix.BaseAddress] : null;
            case AliasKind.Group when !policy.Groups.Any(g => g.Name == alias.Text): return null;
            case AliasKind.Tag when !policy.TagOwners.Any(t => t.Tag == alias.Text): return null;
            case AliasKind.AutoGroup when alias.Text is not (Alias.AutoGroupMember or Alias.AutoGroupTagged): return null;
            case AliasKind.Wildcard when isSource: return null;
            default:
                return [.. resolver.Nodes(alias).Indexes().SelectMany(i => resolver.Index.Nodes[i].Addresses)];
        }
    }

    private bool SelfAllows(SelfRule rule, IPAddress src, IPAddress dst, int port, int proto)
    {
        var index = resolver.Index;
        if (!index.NodeByAddress.TryGetValue(src, out var from) || !index.NodeByAddress.TryGetValue(dst, out var to)) return false;
        var (a, b) = (index.Nodes[from], index.Nodes[to]);
        return rule.SrcNodes.Contains(from) && !b.IsTagged && b.UserEmail is not null && a.UserEmail == b.UserEmail
            && rule.Ports.Any(p => p.Contains(port)) && (rule.Proto.IsDefault ? DefaultProtocols : rule.Proto).Contains(proto);
    }

    private bool Allowed(IPAddress src, IPAddress dst, int port, int proto)
    {
        foreach (var r in rules)
        {
            if (r is SelfRule s && SelfAllows(s, src, dst, port, proto)) return true;
            if (r is not NetworkRule n) continue;
            var protos = n.Proto.IsDefault ? DefaultProtocols : n.Proto;
            if (!protos.Contains(proto)) continue;
            if (!n.Src.Any(s => AddressMatcher.Matches(s, src))) continue;
            if (n.Destinations.Any(d => d.Ports.Contains(port) && AddressMatcher.Matches(d.Target.IP, dst))) return true;
        }
        return false;
    }
}
