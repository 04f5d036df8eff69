using System.Collections.Immutable;
using Headscale.Policy.Model;

namespace Headscale.Policy.Compilation;

/// <summary>
/// Compiles the <c>ssh</c> section into each node's SSH policy. As the service does, all <c>check</c>
/// rules come before all <c>accept</c> rules (each group in policy order), <c>autogroup:self</c> limits
/// sources to the destination owner's own devices, and <c>localpart:*@domain</c> adds one rule per source
/// node mapping that user's local part to itself.
/// </summary>
public sealed class SshCompiler
{
    /// <summary>The check URL template; the host is the control URL (anonymised in the corpus).</summary>
    public const string CheckUrlTemplate = "{0}/machine/ssh/action/$SRC_NODE_ID/to/$DST_NODE_ID?local_user=$LOCAL_USER";

    private sealed record Compiled(SshEntry Entry, NodeBits Src, NodeBits Dst, bool DstSelf, ImmutableSortedDictionary<string, string> Users, string? LocalpartDomain, bool PrincipalPerTag);

    private readonly List<Compiled> _rules = [];
    private readonly AliasResolver _resolver;
    private readonly string _controlUrl;

    public SshCompiler(PolicyDocument policy, AliasResolver resolver, string controlUrl)
    {
        _resolver = resolver;
        _controlUrl = controlUrl;
        foreach (var entry in policy.Ssh.Where(e => e.Action == "check").Concat(policy.Ssh.Where(e => e.Action == "accept")))
        {
            var src = resolver.Index.Empty;
            var tagCopies = false;
            foreach (var s in entry.Src)
            {
                var a = Alias.Parse(s.Trim());
                tagCopies |= a.IsAutoGroup(Alias.AutoGroupTagged);
                src.UnionWith(resolver.Nodes(a));
            }
            var dst = resolver.Index.Empty;
            var self = false;
            foreach (var d in entry.Dst)
            {
                var a = Alias.Parse(d);
                if (a.IsAutoGroup(Alias.AutoGroupSelf)) self = true;
                else dst.UnionWith(resolver.Nodes(a));
            }
            var users = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
            string? localpart = null;
            foreach (var raw in entry.Users)
            {
                var u = raw.Trim();
                if (u == Alias.AutoGroupNonRoot) users["*"] = "=";
                else if (u.StartsWith("localpart:*@", StringComparison.Ordinal) && u.Length > "localpart:*@".Length) localpart = u["localpart:*@".Length..];
                else users[u] = u;
            }
            if (!users.ContainsKey("root")) users["root"] = "";
            _rules.Add(new Compiled(entry, src, dst, self, users.ToImmutable(), localpart, tagCopies));
        }
    }

    public ImmutableArray<SshRule> RulesFor(int node)
    {
        var index = _resolver.Index;
        var target = index.Nodes[node];
        var result = ImmutableArray.CreateBuilder<SshRule>();
        foreach (var rule in _rules)
        {
            NodeBits sources;
            if (rule.Dst.Contains(node)) sources = rule.Src;
            else if (rule.LocalpartDomain is not null && rule.Src.Contains(node) && !target.IsTagged)
            {
                // With localpart mapping the service also lets each source user node reach itself.
                sources = index.Empty;
                sources.Add(node);
            }
            else if (rule.DstSelf && !target.IsTagged && target.UserEmail is { } owner && index.NodesByUser.TryGetValue(owner, out var own))
                sources = rule.Src.Intersect(own);
            else continue;
            if (sources.IsEmpty) continue;
            var action = Action(rule.Entry);
            var env = rule.Entry.AcceptEnv.IsDefaultOrEmpty ? default : rule.Entry.AcceptEnv;
            if (rule.LocalpartDomain is null)
            {
                result.Add(new SshRule(Principals(sources, rule.PrincipalPerTag), rule.Users, action, env));
                continue;
            }
            foreach (var i in sources.Indexes().OrderBy(OwnerRank).ThenBy(i => i))
            {
                var one = index.Empty;
                one.Add(i);
                var principals = Principals(one);
                result.Add(new SshRule(principals, rule.Users, action, env));
                var email = index.Nodes[i].UserEmail;
                if (email is not null && email.EndsWith("@" + rule.LocalpartDomain, StringComparison.Ordinal))
                {
                    var local = email[..email.IndexOf('@')];
                    result.Add(new SshRule(principals, ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [KeyValuePair.Create(local, local)]), action, env));
                }
            }
        }
        return result.ToImmutable();
    }

    /// <summary>Per-source-node rules are ordered by the owner's user id, as the service emits them.</summary>
    private long OwnerRank(int node)
    {
        var email = _resolver.Index.Nodes[node].UserEmail;
        var user = email is null ? null : _resolver.Index.Snapshot.Users.FirstOrDefault(u => u.Email == email);
        return user is null ? long.MaxValue : (long)user.Id;
    }

    /// <summary>
    /// One principal per source address. With <c>autogroup:tagged</c> as a source the service lists a node
    /// once per tag it carries, so a node with two tags appears twice; we reproduce that.
    /// </summary>
    private ImmutableArray<SshPrincipal> Principals(NodeBits nodes, bool perTag = false)
    {
        var list = ImmutableArray.CreateBuilder<SshPrincipal>();
        foreach (var i in nodes.Indexes())
        {
            var node = _resolver.Index.Nodes[i];
            var copies = perTag && node.IsTagged ? node.Tags.Length : 1;
            for (var c = 0; c < copies; c++)
                foreach (var a in node.Addresses) list.Add(new SshPrincipal(a.ToString()));
        }
        return list.ToImmutable();
    }

    private SshAction Action(SshEntry entry) => entry.Action == "check"
        ? new SshAction { HoldAndDelegate = string.Format(System.Globalization.CultureInfo.InvariantCulture, CheckUrlTemplate, _controlUrl) }
        : new SshAction { Accept = true, AllowAgentForwarding = true, AllowLocalPortForwarding = true, AllowRemotePortForwarding = true };
}
