using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Headscale.Policy;

/// <summary>One entry of <c>tailcfg.FilterRule.DstPorts</c>.</summary>
public sealed record NetPortRange(
    [property: JsonPropertyName("IP")] string IP,
    [property: JsonPropertyName("Ports")] WirePortRange Ports);

public sealed record WirePortRange(
    [property: JsonPropertyName("First")] int First,
    [property: JsonPropertyName("Last")] int Last);

/// <summary>One entry of <c>tailcfg.FilterRule.CapGrant</c>: capabilities granted on the listed destination prefixes.</summary>
public sealed record CapGrant(
    [property: JsonPropertyName("Dsts")] ImmutableArray<string> Dsts,
    [property: JsonPropertyName("CapMap")] ImmutableSortedDictionary<string, ImmutableArray<JsonElement>> CapMap);

/// <summary>
/// <c>tailcfg.FilterRule</c> as sent to clients (control protocol §k). A rule carries either
/// <see cref="DstPorts"/> or <see cref="CapGrant"/>. A null <see cref="IPProto"/> is omitted, which clients
/// read as TCP, UDP, ICMPv4 and ICMPv6.
/// </summary>
public sealed record FilterRule(
    [property: JsonPropertyName("SrcIPs")] ImmutableArray<string> SrcIPs,
    [property: JsonPropertyName("DstPorts"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] ImmutableArray<NetPortRange> DstPorts,
    [property: JsonPropertyName("IPProto"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] ImmutableArray<int> IPProto,
    [property: JsonPropertyName("CapGrant"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] ImmutableArray<CapGrant> CapGrant);

/// <summary><c>tailcfg.SSHPrincipal</c>; we only emit node IPs.</summary>
public sealed record SshPrincipal([property: JsonPropertyName("nodeIP")] string NodeIP);

/// <summary><c>tailcfg.SSHAction</c>; false and empty fields are omitted as Tailscale does.</summary>
public sealed record SshAction
{
    [JsonPropertyName("message"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Message { get; init; }
    [JsonPropertyName("reject"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public bool Reject { get; init; }
    [JsonPropertyName("accept"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public bool Accept { get; init; }
    [JsonPropertyName("sessionDuration"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public long SessionDuration { get; init; }
    [JsonPropertyName("allowAgentForwarding"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public bool AllowAgentForwarding { get; init; }
    [JsonPropertyName("holdAndDelegate"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? HoldAndDelegate { get; init; }
    [JsonPropertyName("allowLocalPortForwarding"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public bool AllowLocalPortForwarding { get; init; }
    [JsonPropertyName("allowRemotePortForwarding"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public bool AllowRemotePortForwarding { get; init; }
}

/// <summary><c>tailcfg.SSHRule</c> (control protocol §j.5). The first matching rule wins on the client.</summary>
public sealed record SshRule(
    [property: JsonPropertyName("principals")] ImmutableArray<SshPrincipal> Principals,
    [property: JsonPropertyName("sshUsers")] ImmutableSortedDictionary<string, string> SshUsers,
    [property: JsonPropertyName("action")] SshAction Action,
    [property: JsonPropertyName("acceptEnv"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] ImmutableArray<string> AcceptEnv);

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(FilterRule))]
[JsonSerializable(typeof(ImmutableArray<FilterRule>))]
[JsonSerializable(typeof(SshRule))]
[JsonSerializable(typeof(ImmutableArray<SshRule>))]
[JsonSerializable(typeof(JsonElement))]
public sealed partial class WireJsonContext : JsonSerializerContext;
