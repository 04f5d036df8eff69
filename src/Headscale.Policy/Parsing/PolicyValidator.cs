using System.Collections.Immutable;
using Headscale.Policy.Model;

namespace Headscale.Policy.Parsing;

/// <summary>
/// Checks references and positions of every alias in a parsed policy. Messages follow the hosted
/// service's wording (captured in the conformance corpus) so administrators see the same text.
/// <paramref name="associatedDomains"/> are the domains allowed in <c>user:*@domain</c> expressions.
/// </summary>
public sealed partial class PolicyValidator
{
    private readonly PolicyDocument _policy;
    private readonly ImmutableArray<string> _domains;
    private readonly List<PolicyError> _errors = [];
    private readonly HashSet<string> _groups;
    private readonly HashSet<string> _tags;
    private readonly HashSet<string> _hosts;

    private static readonly HashSet<string> KnownAutoGroups =
    [
        Alias.AutoGroupMember, Alias.AutoGroupTagged, Alias.AutoGroupSelf, Alias.AutoGroupInternet,
        Alias.AutoGroupDangerAll, Alias.AutoGroupNonRoot, "autogroup:admin", "autogroup:owner",
    ];

    private PolicyValidator(PolicyDocument policy, ImmutableArray<string> associatedDomains)
    {
        _policy = policy;
        _domains = associatedDomains.IsDefault ? [] : associatedDomains;
        _groups = [.. policy.Groups.Select(g => g.Name)];
        _tags = [.. policy.TagOwners.Select(t => t.Tag)];
        _hosts = [.. policy.Hosts.Select(h => h.Name)];
    }

    public static ImmutableArray<PolicyError> Validate(PolicyDocument policy, ImmutableArray<string> associatedDomains)
    {
        var v = new PolicyValidator(policy, associatedDomains);
        v.CheckGroups();
        v.CheckHosts();
        v.CheckTagOwners();
        v.CheckAutoApprovers();
        v.CheckAcls();
        v.CheckGrants();
        v.CheckSsh();
        v.CheckNodeAttrs();
        return [.. v._errors];
    }

    private void Fail(string message, HuJson.TextPosition? position = null) => _errors.Add(new PolicyError(message, position));

    private static string Q(string s) => DestinationParser.Quote(s);

    private void CheckGroups()
    {
        foreach (var g in _policy.Groups)
        {
            if (!g.Name.StartsWith("group:", StringComparison.Ordinal))
            {
                Fail($"groups[{Q(g.Name)}]: group names must start with \"group:\"", g.Position);
                continue;
            }
            foreach (var m in g.Members)
            {
                if (m.StartsWith("group:", StringComparison.Ordinal))
                    Fail($"groups[{Q(g.Name)}]: {Q(m)}: group members cannot be recursive", g.Position);
                else if (!m.Contains('@'))
                    Fail($"groups[{Q(g.Name)}]: {Q(m)}: group members must be users (user@domain)", g.Position);
                else CheckUserDomain(m, "");
            }
        }
    }

    private void CheckHosts()
    {
        foreach (var h in _policy.Hosts)
        {
            if (!Alias.TryParsePrefix(h.Value, out _, out _))
                Fail($"hosts[{Q(h.Name)}]: {Q(h.Value)} is not a valid IP address or prefix", h.Position);
            if (h.Name.Contains(':') || h.Name.Contains('@') || h.Name.Length == 0)
                Fail($"hosts[{Q(h.Name)}]: invalid host name", h.Position);
        }
    }

    private void CheckTagOwners()
    {
        foreach (var t in _policy.TagOwners)
        {
            if (!t.Tag.StartsWith("tag:", StringComparison.Ordinal) || t.Tag.Length == 4)
                Fail($"tagOwners[{Q(t.Tag)}]: tag names must start with \"tag:\"", t.Position);
            else if (t.Tag.Any(c => c > 0x7F))
                Fail($"tagOwners[{Q(t.Tag)}]: tag names must be ASCII", t.Position);
            foreach (var owner in t.Owners)
            {
                var a = Alias.Parse(owner);
                switch (a.Kind)
                {
                    case AliasKind.User: CheckUserDomain(owner, ""); break;
                    case AliasKind.Group when !_groups.Contains(owner): Fail($"tagOwners[{Q(t.Tag)}]: group not found: {Q(owner)}", t.Position); break;
                    case AliasKind.Tag when !_tags.Contains(owner): Fail($"tagOwners[{Q(t.Tag)}]: tag not found: {Q(owner)}", t.Position); break;
                    case AliasKind.Group or AliasKind.Tag: break;
                    case AliasKind.AutoGroup when owner is Alias.AutoGroupMember or Alias.AutoGroupTagged or "autogroup:admin" or "autogroup:owner": break;
                    default: Fail($"tagOwners[{Q(t.Tag)}]: {Q(owner)}: tag owners must be users, groups or tags", t.Position); break;
                }
            }
        }
    }

    private void CheckAutoApprovers()
    {
        foreach (var r in _policy.AutoApprovers.Routes)
        {
            if (!Alias.TryParsePrefix(r.Prefix, out _, out _))
                Fail($"autoApprovers.routes: {Q(r.Prefix)} is not a valid prefix");
            foreach (var a in r.Approvers) CheckApprover(a, "autoApprovers.routes");
        }
        foreach (var a in _policy.AutoApprovers.ExitNode) CheckApprover(a, "autoApprovers.exitNode");
    }

    private void CheckApprover(string token, string context)
    {
        var a = Alias.Parse(token);
        if (a.Kind is AliasKind.User or AliasKind.Group or AliasKind.Tag || a.IsAutoGroup(Alias.AutoGroupMember) || a.IsAutoGroup(Alias.AutoGroupTagged))
            CheckReference(a, $"{context}: ");
        else Fail($"{context}: {Q(token)}: approvers must be users, groups or tags");
    }

    /// <summary>Reports an undefined group, tag or host, or an unknown autogroup, with the given prefix.</summary>
    private bool CheckReference(Alias a, string prefix)
    {
        switch (a.Kind)
        {
            case AliasKind.Group when !_groups.Contains(a.Text): Fail($"{prefix}group not found: {Q(a.Text)}"); return false;
            case AliasKind.Tag when !_tags.Contains(a.Text): Fail($"{prefix}tag not found: {Q(a.Text)}"); return false;
            case AliasKind.Host when !_hosts.Contains(a.Text): Fail($"{prefix}host not found: {Q(a.Text)}"); return false;
            case AliasKind.AutoGroup when !KnownAutoGroups.Contains(a.Text): Fail($"{prefix}autogroup not found: {Q(a.Text)}"); return false;
            case AliasKind.User: return CheckUserDomain(a.Text, "");
            default: return true;
        }
    }

    /// <summary><c>*@domain</c> is only allowed for domains associated with the tailnet (case-sensitive, as written).</summary>
    private bool CheckUserDomain(string user, string section)
    {
        if (user.StartsWith("user:", StringComparison.Ordinal)) user = user[5..];
        if (!user.StartsWith("*@", StringComparison.Ordinal)) return true;
        var domain = user[2..];
        if (_domains.Contains(domain)) return true;
        Fail($"{section}{domain} is not associated with this Tailnet and cannot be used in user:*@<domain> expressions");
        return false;
    }
}
