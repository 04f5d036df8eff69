using System.Collections.Immutable;
using Headscale.Policy.HuJson;
using Headscale.Policy.Model;

namespace Headscale.Policy.Parsing;

/// <summary>
/// Turns a HuJSON tree into a <see cref="PolicyDocument"/>. Field names match case-insensitively,
/// unknown fields are errors, and keys starting with '#' inside entries are ignored (comment keys used
/// by some editors). Type errors name the field and the expected JSON type.
/// </summary>
public sealed class PolicyReader
{
    private readonly List<PolicyError> _errors = [];

    public static (PolicyDocument? Document, ImmutableArray<PolicyError> Errors) Read(string text)
    {
        HuValue root;
        try
        {
            root = HuJsonParser.Parse(text);
        }
        catch (HuJsonException e)
        {
            return (null, [new PolicyError($"invalid HuJSON: {e.Expectation}", e.Position)]);
        }
        var reader = new PolicyReader();
        var doc = reader.ReadDocument(root);
        return reader._errors.Count == 0 ? (doc, []) : (null, [.. reader._errors]);
    }

    private void Fail(string message, TextPosition position) => _errors.Add(new PolicyError(message, position));

    private PolicyDocument ReadDocument(HuValue root)
    {
        if (root is not HuObject obj)
        {
            Fail($"policy must be a JSON object, found {root.KindName}", root.Position);
            return PolicyDocument.Empty;
        }
        var doc = PolicyDocument.Empty;
        foreach (var m in obj.Members)
        {
            switch (m.Name.ToLowerInvariant())
            {
                case "groups": doc = doc with { Groups = ReadMap(m, (n, v, p) => new GroupDefinition(n, StringList(v, $"groups[\"{n}\"]"), p)) }; break;
                case "hosts": doc = doc with { Hosts = ReadMap(m, (n, v, p) => new HostDefinition(n, Str(v, $"hosts[\"{n}\"]") ?? "", p)) }; break;
                case "tagowners": doc = doc with { TagOwners = ReadMap(m, (n, v, p) => new TagOwnerDefinition(n, StringList(v, $"tagOwners[\"{n}\"]"), p)) }; break;
                case "autoapprovers": doc = doc with { AutoApprovers = ReadAutoApprovers(m.Value) }; break;
                case "acls": doc = doc with { Acls = ReadList(m, ReadAcl) }; break;
                case "ssh": doc = doc with { Ssh = ReadList(m, ReadSsh) }; break;
                case "grants": doc = doc with { Grants = ReadList(m, ReadGrant) }; break;
                case "nodeattrs": doc = doc with { NodeAttrs = ReadList(m, ReadNodeAttr) }; break;
                case "tests": doc = doc with { Tests = ReadList(m, ReadTest) }; break;
                case "sshtests": doc = doc with { SshTests = ReadList(m, ReadSshTest) }; break;
                case "randomizeclientport":
                    if (m.Value is HuBoolean b) doc = doc with { RandomizeClientPort = b.Value };
                    else Fail($"randomizeClientPort: expected boolean, found {m.Value.KindName}", m.Value.Position);
                    break;
                default: Fail($"unknown field \"{m.Name}\"", m.NamePosition); break;
            }
        }
        return doc;
    }

    private ImmutableArray<T> ReadMap<T>(HuMember m, Func<string, HuValue, TextPosition, T> read)
    {
        if (m.Value is HuNull) return [];
        if (m.Value is not HuObject o)
        {
            Fail($"{m.Name}: expected object, found {m.Value.KindName}", m.Value.Position);
            return [];
        }
        return [.. o.Members.Select(x => read(x.Name, x.Value, x.NamePosition))];
    }

    private ImmutableArray<T> ReadList<T>(HuMember m, Func<HuObject, string, T> read)
    {
        if (m.Value is HuNull) return [];
        if (m.Value is not HuArray a)
        {
            Fail($"{m.Name}: expected array, found {m.Value.KindName}", m.Value.Position);
            return [];
        }
        var result = ImmutableArray.CreateBuilder<T>(a.Items.Count);
        for (var i = 0; i < a.Items.Count; i++)
        {
            var context = $"{m.Name}[{i}]";
            if (a.Items[i] is HuObject o) result.Add(read(o, context));
            else Fail($"{context}: expected object, found {a.Items[i].KindName}", a.Items[i].Position);
        }
        return result.ToImmutable();
    }

    private string? Str(HuValue v, string context)
    {
        if (v is HuString s) return s.Value;
        if (v is HuNull) return null;
        Fail($"{context}: expected string, found {v.KindName}", v.Position);
        return null;
    }

    private ImmutableArray<string> StringList(HuValue v, string context)
    {
        if (v is HuNull) return [];
        if (v is not HuArray a)
        {
            Fail($"{context}: expected array of strings, found {v.KindName}", v.Position);
            return [];
        }
        var list = ImmutableArray.CreateBuilder<string>(a.Items.Count);
        foreach (var item in a.Items)
        {
            if (item is HuString s) list.Add(s.Value);
            else Fail($"{context}: expected array of strings, found {item.KindName} element", item.Position);
        }
        return list.ToImmutable();
    }

    /// <summary>Dispatches the members of an entry; returns false for an unknown member (already reported).</summary>
    private void ForEachField(HuObject o, string context, Func<string, HuValue, bool> handle)
    {
        foreach (var m in o.Members)
        {
            if (m.Name.StartsWith('#')) continue;
            if (!handle(m.Name.ToLowerInvariant(), m.Value))
                Fail($"{context}: unknown field \"{m.Name}\"", m.NamePosition);
        }
    }

    private AutoApproverPolicy ReadAutoApprovers(HuValue v)
    {
        if (v is HuNull) return AutoApproverPolicy.None;
        if (v is not HuObject o)
        {
            Fail($"autoApprovers: expected object, found {v.KindName}", v.Position);
            return AutoApproverPolicy.None;
        }
        var routes = ImmutableArray<RouteApprover>.Empty;
        var exit = ImmutableArray<string>.Empty;
        ForEachField(o, "autoApprovers", (name, value) =>
        {
            switch (name)
            {
                case "routes":
                    if (value is HuObject r)
                        routes = [.. r.Members.Select(x => new RouteApprover(x.Name, StringList(x.Value, $"autoApprovers.routes[\"{x.Name}\"]")))];
                    else if (value is not HuNull) Fail($"autoApprovers.routes: expected object, found {value.KindName}", value.Position);
                    return true;
                case "exitnode": exit = StringList(value, "autoApprovers.exitNode"); return true;
                default: return false;
            }
        });
        return new AutoApproverPolicy(routes, exit);
    }

    private AclEntry ReadAcl(HuObject o, string context)
    {
        string action = "", proto = "";
        ImmutableArray<string> src = [], dst = [];
        ForEachField(o, context, (name, v) =>
        {
            switch (name)
            {
                case "action": action = Str(v, context + ".action") ?? ""; return true;
                case "proto": proto = Str(v, context + ".proto") ?? ""; return true;
                case "src": src = StringList(v, context + ".src"); return true;
                case "dst": dst = StringList(v, context + ".dst"); return true;
                default: return false;
            }
        });
        return new AclEntry(action, proto.Length == 0 ? null : proto, src, dst, o.Position);
    }

    private SshEntry ReadSsh(HuObject o, string context)
    {
        string action = "";
        string? checkPeriod = null;
        ImmutableArray<string> src = [], dst = [], users = [], acceptEnv = [];
        ForEachField(o, context, (name, v) =>
        {
            switch (name)
            {
                case "action": action = Str(v, context + ".action") ?? ""; return true;
                case "src": src = StringList(v, context + ".src"); return true;
                case "dst": dst = StringList(v, context + ".dst"); return true;
                case "users": users = StringList(v, context + ".users"); return true;
                case "acceptenv": acceptEnv = StringList(v, context + ".acceptEnv"); return true;
                case "checkperiod":
                    if (v is HuNumber n) checkPeriod = n.Literal + "ns";
                    else checkPeriod = Str(v, context + ".checkPeriod");
                    return true;
                default: return false;
            }
        });
        return new SshEntry(action, src, dst, users, checkPeriod, acceptEnv, o.Position);
    }

    private GrantEntry ReadGrant(HuObject o, string context)
    {
        ImmutableArray<string> src = [], dst = [], ip = [], via = [];
        var app = ImmutableArray<GrantCapability>.Empty;
        bool hasIp = false, hasApp = false;
        ForEachField(o, context, (name, v) =>
        {
            switch (name)
            {
                case "src": src = StringList(v, context + ".src"); return true;
                case "dst": dst = StringList(v, context + ".dst"); return true;
                case "ip": ip = StringList(v, context + ".ip"); hasIp = ip.Length > 0; return true;
                case "via": via = StringList(v, context + ".via"); return true;
                case "app":
                    if (v is HuObject a)
                    {
                        app = [.. a.Members.Select(x => new GrantCapability(x.Name, CapabilityValues(x.Value, $"{context}.app[\"{x.Name}\"]")))];
                        hasApp = app.Length > 0;
                    }
                    else if (v is not HuNull) Fail($"{context}.app: expected object, found {v.KindName}", v.Position);
                    return true;
                default: return false;
            }
        });
        return new GrantEntry(src, dst, ip, app, via, hasIp, hasApp, o.Position);
    }

    private ImmutableArray<string> CapabilityValues(HuValue v, string context)
    {
        if (v is HuNull) return [];
        if (v is not HuArray a)
        {
            Fail($"{context}: expected array, found {v.KindName}", v.Position);
            return [];
        }
        return [.. a.Items.Select(HuJsonWriter.ToJson)];
    }

    private NodeAttrEntry ReadNodeAttr(HuObject o, string context)
    {
        ImmutableArray<string> target = [], attr = [], pool = [];
        ForEachField(o, context, (name, v) =>
        {
            switch (name)
            {
                case "target": target = StringList(v, context + ".target"); return true;
                case "attr": attr = StringList(v, context + ".attr"); return true;
                case "ippool": pool = StringList(v, context + ".ipPool"); return true;
                default: return false;
            }
        });
        return new NodeAttrEntry(target, attr, pool, o.Position);
    }

    private AclTest ReadTest(HuObject o, string context)
    {
        string? src = null, proto = null;
        ImmutableArray<string> accept = [], deny = [];
        ForEachField(o, context, (name, v) =>
        {
            switch (name)
            {
                case "src": src = Str(v, context + ".src"); return true;
                case "proto": proto = Str(v, context + ".proto"); return true;
                case "accept": accept = StringList(v, context + ".accept"); return true;
                case "deny": deny = StringList(v, context + ".deny"); return true;
                default: return false;
            }
        });
        return new AclTest(src, proto, accept, deny, o.Position);
    }

    private SshTest ReadSshTest(HuObject o, string context)
    {
        string? src = null;
        ImmutableArray<string> dst = [], accept = [], check = [], deny = [];
        ForEachField(o, context, (name, v) =>
        {
            switch (name)
            {
                case "src": src = Str(v, context + ".src"); return true;
                case "dst": dst = StringList(v, context + ".dst"); return true;
                case "accept": accept = StringList(v, context + ".accept"); return true;
                case "check": check = StringList(v, context + ".check"); return true;
                case "deny": deny = StringList(v, context + ".deny"); return true;
                default: return false;
            }
        });
        return new SshTest(src, dst, accept, check, deny, o.Position);
    }
}
