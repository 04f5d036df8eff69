using Headscale.Policy.Compilation;
using Headscale.Policy.Model;

namespace Headscale.Policy.Testing;

/// <summary>
/// Runs a policy's <c>sshTests</c>: for each destination node, the first SSH rule that matches a source
/// address and the local user decides. <c>accept</c> expects an accept action, <c>check</c> a check action,
/// <c>deny</c> no match.
/// </summary>
public sealed class SshTester(Model.PolicyDocument policy, AliasResolver resolver, SshCompiler ssh)
{
    public IEnumerable<TestOutcome> Run()
    {
        for (var i = 0; i < policy.SshTests.Length; i++)
            yield return new TestOutcome("sshTests", i, Evaluate(policy.SshTests[i], out var detail), detail);
    }

    private bool Evaluate(SshTest test, out string detail)
    {
        detail = "";
        if (string.IsNullOrEmpty(test.Src)) { detail = "missing src"; return false; }
        if (test.Accept.IsDefaultOrEmpty && test.Check.IsDefaultOrEmpty && test.Deny.IsDefaultOrEmpty) { detail = "nothing to test"; return false; }
        var srcAlias = Alias.Parse(test.Src);
        var sources = resolver.Nodes(srcAlias).Indexes().SelectMany(i => resolver.Index.Nodes[i].Addresses).Select(a => a.ToString()).ToList();
        if (srcAlias.Kind == AliasKind.Prefix && srcAlias.IsSingleAddress) sources = [srcAlias.Prefix.BaseAddress.ToString()];
        if (sources.Count == 0) { detail = $"src {test.Src} matches no node"; return false; }
        var dsts = new List<int>();
        foreach (var d in test.Dst)
        {
            var a = Alias.Parse(d);
            if (a.Kind == AliasKind.Prefix && a.IsSingleAddress && resolver.Index.NodeByAddress.TryGetValue(a.Prefix.BaseAddress, out var owner)) dsts.Add(owner);
            else if (a.Kind == AliasKind.Prefix) { detail = $"dst {d} is not a node"; return false; }
            else dsts.AddRange(resolver.Nodes(a).Indexes());
        }
        if (dsts.Count == 0) { detail = "dst matches no node"; return false; }
        foreach (var node in dsts)
        {
            var rules = ssh.RulesFor(node);
            foreach (var (users, expected) in new[] { (test.Accept, "accept"), (test.Check, "check"), (test.Deny, "deny") })
            {
                foreach (var user in users.IsDefault ? [] : users)
                {
                    if (user.Length == 0) { detail = "empty user"; return false; }
                    foreach (var src in sources)
                    {
                        var outcome = Decide(rules, src, user);
                        if (outcome != expected) { detail = $"{test.Src} as {user} on {resolver.Index.Nodes[node].Name}: expected {expected}, got {outcome}"; return false; }
                    }
                }
            }
        }
        return true;
    }

    private static string Decide(IEnumerable<SshRule> rules, string src, string user)
    {
        foreach (var rule in rules)
        {
            if (!rule.Principals.Any(p => p.NodeIP == src)) continue;
            var mapped = rule.SshUsers.TryGetValue(user, out var local) ? local : rule.SshUsers.GetValueOrDefault("*");
            if (string.IsNullOrEmpty(mapped)) continue;
            return rule.Action.HoldAndDelegate is not null ? "check" : rule.Action.Accept ? "accept" : "deny";
        }
        return "deny";
    }
}
