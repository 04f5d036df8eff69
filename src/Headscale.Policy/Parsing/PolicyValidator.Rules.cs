using Headscale.Policy.Model;

namespace Headscale.Policy.Parsing;

public sealed partial class PolicyValidator
{
    public const string SelfSourceError = "autogroup:self can only be used with users, groups, or supported autogroups";

    private void CheckAcls()
    {
        foreach (var acl in _policy.Acls)
        {
            if (acl.Action != "accept")
                Fail($"action={Q(acl.Action)} is not supported", acl.Position);
            var proto = Protocols.Parse(acl.Proto, out var protoError);
            if (protoError is not null) Fail(protoError, acl.Position);
            var hasSelf = false;
            foreach (var d in acl.Dst)
            {
                var dst = DestinationParser.TryParse(d, out var error);
                if (dst is null) { Fail(error!, acl.Position); continue; }
                CheckDestinationAlias(dst.Alias);
                hasSelf |= dst.Alias.IsAutoGroup(Alias.AutoGroupSelf);
                if (!Protocols.AllowsPorts(proto) && dst.PortsText != "*")
                    Fail($"dst={Q(d)}: proto={Q(acl.Proto!)} does not support specific ports", acl.Position);
            }
            CheckSources(acl.Src, hasSelf, wildcardAllowedWithSelf: true);
        }
    }

    private void CheckSources(IEnumerable<string> sources, bool hasSelf, bool wildcardAllowedWithSelf)
    {
        foreach (var s in sources)
        {
            var a = Alias.Parse(s);
            if (a.IsAutoGroup(Alias.AutoGroupSelf) || a.IsAutoGroup(Alias.AutoGroupInternet))
            {
                Fail($"src={Q(s)}: {a.Text} cannot be used as a src");
                continue;
            }
            CheckReference(a, "src=");
            if (!hasSelf) continue;
            var allowed = a.Kind is AliasKind.User or AliasKind.Group
                || a.IsAutoGroup(Alias.AutoGroupMember)
                || (a.Kind == AliasKind.Wildcard && wildcardAllowedWithSelf);
            if (!allowed) Fail(SelfSourceError);
        }
    }

    private void CheckDestinationAlias(Alias a)
    {
        if (a.IsAutoGroup(Alias.AutoGroupDangerAll)) { Fail("cannot use autogroup:danger-all as a dst"); return; }
        CheckReference(a, $"dst={Q(a.Text)}: ");
    }

    private static readonly HashSet<string> TailscaleCapabilities =
    [
        "tailscale.com/cap/drive", "tailscale.com/cap/kubernetes", "tailscale.com/cap/webui",
        "tailscale.com/cap/relay", "tailscale.com/cap/tsidp", "tailscale.com/cap/drive-sharer",
    ];

    private void CheckGrants()
    {
        foreach (var g in _policy.Grants)
        {
            if (!g.HasIp && !g.HasApp) Fail("ip and app can not both be empty", g.Position);
            foreach (var spec in g.Ip)
            {
                var colon = spec.IndexOf(':');
                if (colon >= 0)
                {
                    Protocols.Parse(spec[..colon], out var protoError);
                    if (protoError is not null) Fail($"ip={Q(spec)}: {protoError}", g.Position);
                }
                DestinationParser.ParsePorts(colon >= 0 ? spec[(colon + 1)..] : spec, out var portError);
                if (portError is not null) Fail($"ip={Q(spec)}: {portError}", g.Position);
            }
            foreach (var cap in g.App)
            {
                var slash = cap.Name.IndexOf('/');
                if (slash <= 0 || slash == cap.Name.Length - 1 || cap.Name.Contains("://", StringComparison.Ordinal))
                    Fail($"app={Q(cap.Name)}: capability name must have the form {{domain}}/{{path}}", g.Position);
                else if (cap.Name[..slash] == "tailscale.com" && !TailscaleCapabilities.Contains(cap.Name))
                    Fail($"app={Q(cap.Name)}: capability name must not be in the tailscale.com domain", g.Position);
            }
            var hasSelf = false;
            foreach (var d in g.Dst)
            {
                var a = Alias.Parse(d);
                if (a.Kind == AliasKind.Prefix && a.Prefix.PrefixLength == 0)
                {
                    Fail($"dst {Q(d)}: to allow all IP addresses, use \"*\" or \"autogroup:internet\"", g.Position);
                    continue;
                }
                CheckDestinationAlias(a);
                hasSelf |= a.IsAutoGroup(Alias.AutoGroupSelf);
            }
            CheckSources(g.Src, hasSelf, wildcardAllowedWithSelf: false);
            foreach (var via in g.Via)
                if (!via.StartsWith("tag:", StringComparison.Ordinal)) Fail($"via={Q(via)}: via must be a tag", g.Position);
                else CheckReference(Alias.Parse(via), "via=");
        }
    }

    private void CheckNodeAttrs()
    {
        foreach (var n in _policy.NodeAttrs)
        {
            foreach (var t in n.Target)
            {
                var a = Alias.Parse(t);
                if (a.IsAutoGroup(Alias.AutoGroupSelf) || a.IsAutoGroup(Alias.AutoGroupInternet) || a.IsAutoGroup(Alias.AutoGroupDangerAll))
                    Fail($"target={Q(t)}: {a.Text} cannot be used as a nodeAttrs target", n.Position);
                else CheckReference(a, "target=");
            }
            foreach (var p in n.IpPool)
                if (!Alias.TryParsePrefix(p, out _, out _)) Fail($"ipPool={Q(p)}: not a valid prefix", n.Position);
        }
    }
}
