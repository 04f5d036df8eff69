using System.Collections.Immutable;
using System.Net;
using Headscale.Policy.Snapshot;

namespace Headscale.Policy.Tests.Compilation;

/// <summary>A small fixed tailnet: odin and freya own one laptop each (odin two), plus tagged server and router.</summary>
public static class TestTailnet
{
    public static readonly ImmutableArray<TailnetUser> Users =
        [new(1, "odin", "odin@example.com"), new(2, "freya", "freya@example.com")];

    public static TailnetNode Node(ulong id, string name, string? user, string[] tags, string v4, string v6, string[]? announced = null, string[]? approved = null) =>
        new(id, name, user, [.. tags], IPAddress.Parse(v4), IPAddress.Parse(v6),
            [.. (announced ?? []).Select(IPNetwork.Parse)], [.. (approved ?? []).Select(IPNetwork.Parse)], (long)id);

    public static TailnetSnapshot Snapshot() => new(Users,
    [
        Node(1, "odin-laptop", "odin@example.com", [], "100.64.0.1", "fd7a:115c:a1e0::1"),
        Node(2, "odin-phone", "odin@example.com", [], "100.64.0.2", "fd7a:115c:a1e0::2"),
        Node(3, "freya-laptop", "freya@example.com", [], "100.64.0.3", "fd7a:115c:a1e0::3"),
        Node(4, "server", null, ["tag:server"], "100.64.0.4", "fd7a:115c:a1e0::4"),
        Node(5, "router", null, ["tag:router"], "100.64.0.5", "fd7a:115c:a1e0::5", ["10.33.0.0/16", "0.0.0.0/0", "::/0"], ["10.33.0.0/16"]),
    ], ["example.com"]);

    public const string TagOwners = "\"tagOwners\": {\"tag:server\": [\"odin@example.com\"], \"tag:router\": [\"odin@example.com\"]}";

    public static CompiledPolicy Compile(string policy, TailnetSnapshot? snapshot = null)
    {
        var load = PolicyLoader.Load(policy, ["example.com"]);
        Xunit.Assert.True(load.IsValid, load.ErrorMessage);
        return CompiledPolicy.Compile(load.Policy!, snapshot ?? Snapshot());
    }
}
