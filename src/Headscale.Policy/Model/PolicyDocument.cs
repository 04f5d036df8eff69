using System.Collections.Immutable;
using Headscale.Policy.HuJson;

namespace Headscale.Policy.Model;

/// <summary>
/// A policy file as written, after syntax checks and before any reference is resolved.
/// Section order and entry order are preserved because rule order is significant on the wire.
/// </summary>
public sealed record PolicyDocument(
    ImmutableArray<GroupDefinition> Groups,
    ImmutableArray<HostDefinition> Hosts,
    ImmutableArray<TagOwnerDefinition> TagOwners,
    AutoApproverPolicy AutoApprovers,
    ImmutableArray<AclEntry> Acls,
    ImmutableArray<SshEntry> Ssh,
    ImmutableArray<GrantEntry> Grants,
    ImmutableArray<NodeAttrEntry> NodeAttrs,
    ImmutableArray<AclTest> Tests,
    ImmutableArray<SshTest> SshTests,
    bool RandomizeClientPort)
{
    /// <summary>True when the policy has neither <c>acls</c> nor <c>grants</c>: Tailscale then allows everything.</summary>
    public bool HasNoAccessRules => Acls.IsDefaultOrEmpty && Grants.IsDefaultOrEmpty;

    public static PolicyDocument Empty { get; } = new([], [], [], AutoApproverPolicy.None, [], [], [], [], [], [], false);
}

public sealed record GroupDefinition(string Name, ImmutableArray<string> Members, TextPosition Position);

public sealed record HostDefinition(string Name, string Value, TextPosition Position);

public sealed record TagOwnerDefinition(string Tag, ImmutableArray<string> Owners, TextPosition Position);

public sealed record RouteApprover(string Prefix, ImmutableArray<string> Approvers);

public sealed record AutoApproverPolicy(ImmutableArray<RouteApprover> Routes, ImmutableArray<string> ExitNode)
{
    public static AutoApproverPolicy None { get; } = new([], []);
}

public sealed record AclEntry(string Action, string? Proto, ImmutableArray<string> Src, ImmutableArray<string> Dst, TextPosition Position);

public sealed record SshEntry(
    string Action,
    ImmutableArray<string> Src,
    ImmutableArray<string> Dst,
    ImmutableArray<string> Users,
    string? CheckPeriod,
    ImmutableArray<string> AcceptEnv,
    TextPosition Position);

/// <summary>One application capability of a grant: its name and its values as raw JSON texts.</summary>
public sealed record GrantCapability(string Name, ImmutableArray<string> ValuesJson);

public sealed record GrantEntry(
    ImmutableArray<string> Src,
    ImmutableArray<string> Dst,
    ImmutableArray<string> Ip,
    ImmutableArray<GrantCapability> App,
    ImmutableArray<string> Via,
    bool HasIp,
    bool HasApp,
    TextPosition Position);

public sealed record NodeAttrEntry(ImmutableArray<string> Target, ImmutableArray<string> Attr, ImmutableArray<string> IpPool, TextPosition Position);

public sealed record AclTest(string? Src, string? Proto, ImmutableArray<string> Accept, ImmutableArray<string> Deny, TextPosition Position);

public sealed record SshTest(
    string? Src,
    ImmutableArray<string> Dst,
    ImmutableArray<string> Accept,
    ImmutableArray<string> Check,
    ImmutableArray<string> Deny,
    TextPosition Position);
