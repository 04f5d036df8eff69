using System.Collections.Immutable;
using System.Net;
using Headscale.Actors.Addressing;
using Headscale.Actors.Nodes;
using Headscale.Actors.Nodes.Messages;
using Headscale.Actors.Users;
using static Headscale.Actors.Nodes.Messages.NodeCommands;
using static Headscale.Actors.Nodes.Messages.NodeRegistryCommands;

namespace Headscale.Actors.Tests.Lifecycle;

/// <summary>Hostinfo, disco key, routes, tags, ownership and address backfill as pure Decide/Apply, bad inputs included.</summary>
public sealed class NodeStateCommandTests
{
    private static readonly DateTimeOffset Now = new(2026, 2, 3, 4, 5, 6, TimeSpan.Zero);
    private static readonly Cause Cli = Cause.Cli("test");
    private static readonly NodeId Id = new(5);

    private static NodeState Registered(string ipv6 = "fd7a:115c:a1e0::5") =>
        Run(NodeState.Unregistered, new RegisterNode(Id, TestKeys.Machine(1), TestKeys.Node(1), new UserId(1), "host", "host",
            "100.64.0.5", ipv6, null, false, [], null, RegisterMethod.Cli, Now, Cli));

    [Fact]
    public void Hostinfo_is_stored_with_its_host_name_and_canonical_routes_and_only_when_it_changed()
    {
        const string json = """{"Hostname":"Laptop","RoutableIPs":["10.1.0.0/16","FD00::/8","10.1.0.0/16"]}""";
        var state = Run(Registered(), new UpdateHostinfo(Id, json, "Laptop", ["10.1.0.0/16", "FD00::/8", "10.1.0.0/16"], Now, Cli));

        Assert.Equal(json, state.Node!.Hostinfo);
        Assert.Equal("Laptop", state.Node.Hostname);
        Assert.Equal(["10.1.0.0/16", "fd00::/8"], state.Node.AnnouncedRoutes);

        var again = NodeState.Decide(state, new UpdateHostinfo(Id, json, "Laptop", ["10.1.0.0/16"], Now.AddMinutes(1), Cli));
        Assert.Equal(ResultCode.NoOp, again.Result.Code);
        Assert.Empty(again.Events);

        var noName = Run(state, new UpdateHostinfo(Id, "{}", "", [], Now, Cli));
        Assert.Equal("Laptop", noName.Node!.Hostname);
        Assert.Empty(noName.Node.AnnouncedRoutes);
    }

    [Theory]
    [InlineData("10.0.0.1")]
    [InlineData("not-a-prefix")]
    [InlineData("10.0.0.0/33")]
    [InlineData("")]
    public void An_invalid_routable_ip_is_refused_naming_the_field_and_nothing_changes(string route)
    {
        var state = Registered();
        var decision = NodeState.Decide(state, new UpdateHostinfo(Id, "{\"x\":1}", "h", ["10.0.0.0/8", route], Now, Cli));

        Assert.Equal(ResultCode.BadRequest, decision.Result.Code);
        Assert.Contains("Hostinfo.RoutableIPs", decision.Result.Message);
        Assert.Empty(decision.Events);
    }

    [Fact]
    public void Approving_routes_replaces_the_list_and_either_exit_route_approves_both()
    {
        var state = Run(Registered(), new SetApprovedRoutes(Id, ["192.168.1.0/24", "::/0"], Now, Cli));
        Assert.Equal(["0.0.0.0/0", "192.168.1.0/24", "::/0"], state.Node!.ApprovedRoutes);

        Assert.Equal(ResultCode.NoOp, NodeState.Decide(state, new SetApprovedRoutes(Id, ["0.0.0.0/0", "192.168.1.0/24"], Now, Cli)).Result.Code);

        var cleared = Run(state, new SetApprovedRoutes(Id, [], Now, Cli));
        Assert.Empty(cleared.Node!.ApprovedRoutes);

        var masked = Run(state, new SetApprovedRoutes(Id, ["192.168.1.1/24"], Now, Cli));
        Assert.Equal(["192.168.1.0/24"], masked.Node!.ApprovedRoutes);

        var bad = NodeState.Decide(state, new SetApprovedRoutes(Id, ["192.168.1.0/24", "192.168.1.0/40"], Now, Cli));
        Assert.Equal(ResultCode.BadRequest, bad.Result.Code);
        Assert.StartsWith("routes: '192.168.1.0/40'", bad.Result.Message);
        Assert.Empty(bad.Events);
    }

    [Fact]
    public void Tags_must_be_lower_case_tag_names_without_spaces()
    {
        var state = Run(Registered(), new SetTags(Id, ["tag:web", "tag:db", "tag:web"], Now, Cli));
        Assert.Equal(["tag:db", "tag:web"], state.Node!.Tags);
        Assert.Equal(ResultCode.NoOp, NodeState.Decide(state, new SetTags(Id, ["tag:web", "tag:db"], Now, Cli)).Result.Code);

        foreach (var bad in new[] { "web", "tag:", "tag:Web", "tag:my web", "group:x" })
        {
            var decision = NodeState.Decide(state, new SetTags(Id, ["tag:ok", bad], Now, Cli));
            Assert.Equal(ResultCode.BadRequest, decision.Result.Code);
            Assert.StartsWith($"tags: '{bad}'", decision.Result.Message);
            Assert.Empty(decision.Events);
        }
    }

    [Fact]
    public void Disco_key_is_validated_and_stored_in_lower_case()
    {
        var key = "discokey:" + new string('A', 64);
        var state = Run(Registered(), new UpdateDiscoKey(Id, key, Now, Cli));
        Assert.Equal(key.ToLowerInvariant(), state.Node!.DiscoKey);
        Assert.Equal(ResultCode.NoOp, NodeState.Decide(state, new UpdateDiscoKey(Id, key, Now, Cli)).Result.Code);

        var bad = NodeState.Decide(state, new UpdateDiscoKey(Id, "nodekey:" + new string('a', 64), Now, Cli));
        Assert.Equal(ResultCode.BadRequest, bad.Result.Code);
        Assert.StartsWith("DiscoKey:", bad.Result.Message);
    }

    [Fact]
    public void Moving_changes_the_owner_and_keeps_tags()
    {
        var state = Run(Run(Registered(), new SetTags(Id, ["tag:server"], Now, Cli)), new MoveNode(Id, new UserId(2), Now, Cli));
        Assert.Equal(new UserId(2), state.Node!.User);
        Assert.Equal(["tag:server"], state.Node.Tags);
        Assert.Equal(ResultCode.NoOp, NodeState.Decide(state, new MoveNode(Id, new UserId(2), Now, Cli)).Result.Code);
    }

    [Fact]
    public void Commands_to_a_deleted_or_unknown_node_are_not_found()
    {
        var deleted = Run(Registered(), new DeleteNode(Id, Now, Cli));
        Assert.Equal(ResultCode.NotFound, NodeState.Decide(deleted, new SetTags(Id, ["tag:a"], Now, Cli)).Result.Code);
        Assert.Equal(ResultCode.NotFound, NodeState.Decide(NodeState.Unregistered, new SetApprovedRoutes(Id, [], Now, Cli)).Result.Code);
    }

    [Fact]
    public void Backfill_gives_only_missing_addresses_and_never_changes_present_ones()
    {
        var v4Only = new AddressingSettings(IPNetwork.Parse("100.64.0.0/10"), null, AllocationStrategy.Sequential);
        var both = v4Only with { V6 = IPNetwork.Parse("fd7a:115c:a1e0::/48") };
        var registry = Apply(NodeRegistryState.Empty,
            NodeRegistryState.Decide(NodeRegistryState.Empty, new ReserveNode(Id, TestKeys.Machine(1), TestKeys.Node(1), new UserId(1), "h", false, Now, Cli), v4Only, new Random(1)));
        Assert.Equal("", registry.Nodes[Id].IPv6);

        Assert.Equal(ResultCode.NoOp, NodeRegistryState.Decide(registry, new BackfillAddresses(Id, Now, Cli), v4Only, new Random(1)).Result.Code);
        var decision = NodeRegistryState.Decide(registry, new BackfillAddresses(Id, Now, Cli), both, new Random(1));
        registry = Apply(registry, decision);
        Assert.Equal("100.64.0.1", registry.Nodes[Id].IPv4);
        Assert.Equal("fd7a:115c:a1e0::1", registry.Nodes[Id].IPv6);
        Assert.True(registry.ByAddress.ContainsKey("fd7a:115c:a1e0::1"));

        var node = Run(Registered(ipv6: ""), new AssignAddresses(Id, "100.64.9.9", "fd7a:115c:a1e0::1", Now, Cli));
        Assert.Equal("100.64.0.5", node.Node!.IPv4);
        Assert.Equal("fd7a:115c:a1e0::1", node.Node.IPv6);
        Assert.Equal(ResultCode.NoOp, NodeState.Decide(node, new AssignAddresses(Id, "100.64.9.9", "fd7a:115c:a1e0::2", Now, Cli)).Result.Code);
        Assert.Equal(ResultCode.BadRequest, NodeState.Decide(Registered(ipv6: ""), new AssignAddresses(Id, "", "nonsense", Now, Cli)).Result.Code);
    }

    [Fact]
    public void Registry_moves_an_owner_only_for_a_known_node()
    {
        var settings = AddressingSettings.Default;
        var registry = Apply(NodeRegistryState.Empty,
            NodeRegistryState.Decide(NodeRegistryState.Empty, new ReserveNode(Id, TestKeys.Machine(1), TestKeys.Node(1), new UserId(1), "h", false, Now, Cli), settings, new Random(1)));

        registry = Apply(registry, NodeRegistryState.Decide(registry, new ChangeOwner(Id, new UserId(2), Now, Cli), settings, new Random(1)));
        Assert.Equal(new UserId(2), registry.Nodes[Id].User);
        Assert.Equal(ResultCode.NotFound, NodeRegistryState.Decide(registry, new ChangeOwner(new NodeId(99), new UserId(2), Now, Cli), settings, new Random(1)).Result.Code);
    }

    private static NodeRegistryState Apply(NodeRegistryState state, Decision<INodeRegistryEvent> decision)
    {
        Assert.Equal(ResultCode.Ok, decision.Result.Code);
        return decision.Events.Aggregate(state, NodeRegistryState.Apply);
    }

    private static NodeState Run(NodeState state, INodeCommand command)
    {
        var decision = NodeState.Decide(state, command);
        Assert.Equal(ResultCode.Ok, decision.Result.Code);
        return decision.Events.Aggregate(state, NodeState.Apply);
    }
}
