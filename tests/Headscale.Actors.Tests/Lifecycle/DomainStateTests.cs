using System.Collections.Immutable;
using System.Net;
using Headscale.Actors.Addressing;
using Headscale.Actors.Nodes;
using Headscale.Actors.Nodes.Messages;
using Headscale.Actors.PreAuthKeys;
using Headscale.Actors.PreAuthKeys.Messages;
using Headscale.Actors.Users;
using Headscale.Actors.Users.Messages;
using static Headscale.Actors.Nodes.Messages.NodeRegistryCommands;
using static Headscale.Actors.Nodes.Messages.NodeRegistryEvents;

namespace Headscale.Actors.Tests.Lifecycle;

/// <summary>The pure Decide/Apply functions of users, pre-auth keys, the node registry and nodes.</summary>
public sealed class DomainStateTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
    private static readonly Cause Cli = Cause.Cli("test");
    private static readonly MachineKey MachineA = TestKeys.Machine(1);
    private static readonly MachineKey MachineB = TestKeys.Machine(2);

    [Fact]
    public void Users_have_unique_names_and_duplicates_are_no_ops()
    {
        var state = Run(UserDirectoryState.Empty, new UserCommands.CreateUser(new UserId(1), "alice", "", "", Now, Cli));
        Assert.Equal(ResultCode.NoOp, UserDirectoryState.Decide(state, new UserCommands.CreateUser(new UserId(1), "alice", "", "", Now, Cli)).Result.Code);
        Assert.Equal(ResultCode.Conflict, UserDirectoryState.Decide(state, new UserCommands.CreateUser(new UserId(2), "alice", "", "", Now, Cli)).Result.Code);
        Assert.Equal(ResultCode.BadRequest, UserDirectoryState.Decide(state, new UserCommands.CreateUser(new UserId(3), "a b", "", "", Now, Cli)).Result.Code);
        Assert.Equal(ResultCode.BadRequest, UserDirectoryState.Decide(state, new UserCommands.CreateUser(new UserId(3), "", "", "", Now, Cli)).Result.Code);

        state = Run(state, new UserCommands.RenameUser(new UserId(1), "alicia", Now, Cli));
        Assert.Equal("alicia", state.Users[new UserId(1)].Name);
        state = Run(state, new UserCommands.DeleteUser(new UserId(1), Now, Cli));
        Assert.Empty(state.Users);
        Assert.Equal(ResultCode.NotFound, UserDirectoryState.Decide(state, new UserCommands.DeleteUser(new UserId(1), Now, Cli)).Result.Code);
    }

    [Fact]
    public void A_single_use_key_is_used_once_and_a_revert_hands_it_back()
    {
        var id = new PreAuthKeyId(7);
        var state = Run(PreAuthKeyStoreState.Empty, CreateKey(id, reusable: false));
        var use = new PreAuthKeyCommands.UsePreAuthKey(id, Now, Cli);

        state = Run(state, use);
        var second = PreAuthKeyStoreState.Decide(state, use);
        Assert.Equal(ResultCode.Conflict, second.Result.Code);
        Assert.Equal(Errors.PreAuthKeyUsed, second.Result.Message);

        state = Run(state, new PreAuthKeyCommands.RevertPreAuthKeyUse(id, Now, Cli));
        Assert.Equal(ResultCode.Ok, PreAuthKeyStoreState.Decide(state, use).Result.Code);
    }

    [Fact]
    public void Reusable_keys_are_never_marked_used_and_expired_keys_are_refused()
    {
        var id = new PreAuthKeyId(8);
        var state = Run(PreAuthKeyStoreState.Empty, CreateKey(id, reusable: true));
        var use = new PreAuthKeyCommands.UsePreAuthKey(id, Now, Cli);
        Assert.Empty(PreAuthKeyStoreState.Decide(state, use).Events);
        Assert.Equal(ResultCode.Ok, PreAuthKeyStoreState.Decide(state, use).Result.Code);

        var later = PreAuthKeyStoreState.Decide(state, use with { Now = Now.AddHours(2) });
        Assert.Equal(ResultCode.Expired, later.Result.Code);
        Assert.Equal(Errors.PreAuthKeyExpired, later.Result.Message);

        state = Run(state, new PreAuthKeyCommands.ExpirePreAuthKey(id, Now, Cli));
        Assert.Equal(ResultCode.Expired, PreAuthKeyStoreState.Decide(state, use).Result.Code);
        Assert.Equal(ResultCode.NotFound, PreAuthKeyStoreState.Decide(state, use with { Id = new PreAuthKeyId(99) }).Result.Code);
    }

    [Fact]
    public void Keys_are_found_by_prefix_or_legacy_plaintext_and_tags_are_checked()
    {
        var state = Run(PreAuthKeyStoreState.Empty, CreateKey(new PreAuthKeyId(1), false));
        var legacy = PreAuthKeyText.GenerateLegacy();
        state = Run(state, CreateKey(new PreAuthKeyId(2), false) with { Prefix = "", Hash = "", LegacyKey = legacy });

        Assert.Equal(new PreAuthKeyId(1), state.Find("prefix000001", "")!.Id);
        Assert.Equal(new PreAuthKeyId(2), state.Find("", legacy)!.Id);
        Assert.Null(state.Find("", PreAuthKeyText.GenerateLegacy()));

        var badTag = PreAuthKeyStoreState.Decide(state, CreateKey(new PreAuthKeyId(3), false) with { Prefix = "other0000001", Tags = ["Tag:X"] });
        Assert.Equal(ResultCode.BadRequest, badTag.Result.Code);
    }

    [Fact]
    public void Registry_keeps_node_keys_addresses_and_names_unique()
    {
        var settings = new AddressingSettings(IPNetwork.Parse("100.64.0.0/10"), IPNetwork.Parse("fd7a:115c:a1e0::/48"), AllocationStrategy.Sequential);
        var state = Reserve(NodeRegistryState.Empty, settings, 1, MachineA, TestKeys.Node(1), "Joe's Mac mini");
        state = Reserve(state, settings, 2, MachineB, TestKeys.Node(2), "joes mac mini");

        Assert.Equal("joes-mac-mini", state.Nodes[new NodeId(1)].GivenName);
        Assert.Equal("joes-mac-mini-1", state.Nodes[new NodeId(2)].GivenName);
        Assert.Equal(["100.64.0.1", "100.64.0.2"], state.Nodes.Values.Select(n => n.IPv4).Order());
        Assert.Equal("fd7a:115c:a1e0::2", state.Nodes[new NodeId(2)].IPv6);

        var sameKey = NodeRegistryState.Decide(state, new ReserveNode(new NodeId(3), MachineB, TestKeys.Node(1), new UserId(1), "x", false, Now, Cli), settings, new Random(1));
        Assert.Equal(ResultCode.Conflict, sameKey.Result.Code);

        var rebindTaken = NodeRegistryState.Decide(state, new RebindNode(new NodeId(2), TestKeys.Node(1), false, Now, Cli), settings, new Random(1));
        Assert.Equal(ResultCode.Conflict, rebindTaken.Result.Code);

        var renameTaken = NodeRegistryState.Decide(state, new ChangeGivenName(new NodeId(2), "joes-mac-mini", Now, Cli), settings, new Random(1));
        Assert.Equal(ResultCode.Conflict, renameTaken.Result.Code);
        var renameBad = NodeRegistryState.Decide(state, new ChangeGivenName(new NodeId(2), "Not Valid", Now, Cli), settings, new Random(1));
        Assert.Equal(ResultCode.BadRequest, renameBad.Result.Code);

        state = RunRegistry(state, new ReleaseNode(new NodeId(1), Now, Cli), settings);
        Assert.Null(state.ByKey(TestKeys.Node(1)));
        Assert.False(state.ByAddress.ContainsKey("100.64.0.1"));
        state = Reserve(state, settings, 4, MachineA, TestKeys.Node(4), "Joe's Mac mini");
        Assert.Equal("joes-mac-mini", state.Nodes[new NodeId(4)].GivenName);
        Assert.Equal("100.64.0.3", state.Nodes[new NodeId(4)].IPv4);
    }

    [Fact]
    public void Thousands_of_nodes_with_one_host_name_get_consecutive_suffixes_even_after_releases()
    {
        var settings = AddressingSettings.Default;
        var state = NodeRegistryState.Empty;
        for (var i = 1; i <= 3000; i++)
        {
            state = Reserve(state, settings, (ulong)i, TestKeys.Machine(i), TestKeys.Node(i), "localhost");
        }

        Assert.Equal(3000, state.ByGivenName.Count);
        Assert.Equal(new NodeId(3000), state.ByGivenName["localhost-2999"]);

        state = RunRegistry(state, new ReleaseNode(new NodeId(1), Now, Cli), settings);
        state = Reserve(state, settings, 5000, TestKeys.Machine(5000), TestKeys.Node(5000), "localhost");
        state = Reserve(state, settings, 5001, TestKeys.Machine(5001), TestKeys.Node(5001), "localhost");
        Assert.Equal("localhost", state.Nodes[new NodeId(5000)].GivenName);
        Assert.Equal("localhost-3000", state.Nodes[new NodeId(5001)].GivenName);
        Assert.Equal("localhost-3001", GivenNames.Unique("localhost", state.ByGivenName.ContainsKey, NodeRegistryState.FromSnapshot(state.ToSnapshot()).SuffixHints["localhost"] + 1));
    }

    [Fact]
    public void Registry_snapshot_restores_the_same_indexes()
    {
        var settings = AddressingSettings.Default with { Strategy = AllocationStrategy.Random };
        var state = NodeRegistryState.Empty;
        for (var i = 1; i <= 50; i++)
        {
            state = Reserve(state, settings, (ulong)i, TestKeys.Machine(i), TestKeys.Node(i), "host");
        }

        var restored = NodeRegistryState.FromSnapshot(state.ToSnapshot());
        Assert.Equal(state.Nodes.Values.OrderBy(n => n.Id.Value), restored.Nodes.Values.OrderBy(n => n.Id.Value));
        Assert.Equal(state.ByAddress.Keys.Order(), restored.ByAddress.Keys.Order());
        Assert.Equal(state.ByGivenName.Keys.Order(), restored.ByGivenName.Keys.Order());
        Assert.Equal(state.LastIPv4, restored.LastIPv4);
    }

    [Fact]
    public void Node_lifecycle_register_rotate_expire_delete()
    {
        var id = new NodeId(5);
        var register = new NodeCommands.RegisterNode(id, MachineA, TestKeys.Node(1), new UserId(1), "host", "host", "100.64.0.1", "fd7a:115c:a1e0::1",
            null, false, [], new PreAuthKeyId(1), RegisterMethod.AuthKey, Now, Cli);
        var state = RunNode(NodeState.Unregistered, register);
        Assert.Equal(ResultCode.NoOp, NodeState.Decide(state, register).Result.Code);
        Assert.False(state.Node!.IsExpiredAt(Now.AddYears(10)));

        var wrongOld = NodeState.Decide(state, new NodeCommands.RotateNodeKey(id, TestKeys.Node(9), TestKeys.Node(2), Now, Cli));
        Assert.Equal(ResultCode.Conflict, wrongOld.Result.Code);
        state = RunNode(state, new NodeCommands.RotateNodeKey(id, TestKeys.Node(1), TestKeys.Node(2), Now, Cli));
        Assert.Equal(TestKeys.Node(2), state.Node!.NodeKey);

        state = RunNode(state, new NodeCommands.ExpireNode(id, Now, Now, Cli));
        Assert.True(state.Node!.IsExpiredAt(Now));

        state = RunNode(state, new NodeCommands.DeleteNode(id, Now, Cli));
        Assert.True(state.Deleted);
        Assert.Equal(ResultCode.NotFound, NodeState.Decide(state, register).Result.Code);
        Assert.Equal(ResultCode.NoOp, NodeState.Decide(state, new NodeCommands.DeleteNode(id, Now, Cli)).Result.Code);
    }

    [Fact]
    public void Every_event_carries_its_time_and_cause()
    {
        var decision = NodeState.Decide(NodeState.Unregistered, new NodeCommands.RegisterNode(new NodeId(1), MachineA, TestKeys.Node(1), new UserId(1), "h", "h", "", "",
            null, true, [], null, RegisterMethod.Cli, Now, Cause.Cli("nodes register")));
        var e = Assert.Single(decision.Events);
        Assert.Equal(Now, e.At);
        Assert.Equal(Cause.Cli("nodes register"), e.Cause);
    }

    private static PreAuthKeyCommands.CreatePreAuthKey CreateKey(PreAuthKeyId id, bool reusable) =>
        new(id, new UserId(1), "prefix" + id.Value.ToString("000000", System.Globalization.CultureInfo.InvariantCulture), "hash", "",
            reusable, false, Now.AddHours(1), ImmutableArray<string>.Empty, Now, Cli);

    private static UserDirectoryState Run(UserDirectoryState state, IUserCommand command)
    {
        var decision = UserDirectoryState.Decide(state, command);
        Assert.Equal(ResultCode.Ok, decision.Result.Code);
        return decision.Events.Aggregate(state, UserDirectoryState.Apply);
    }

    private static PreAuthKeyStoreState Run(PreAuthKeyStoreState state, IPreAuthKeyCommand command)
    {
        var decision = PreAuthKeyStoreState.Decide(state, command);
        Assert.Equal(ResultCode.Ok, decision.Result.Code);
        return decision.Events.Aggregate(state, PreAuthKeyStoreState.Apply);
    }

    private static NodeState RunNode(NodeState state, INodeCommand command)
    {
        var decision = NodeState.Decide(state, command);
        Assert.Equal(ResultCode.Ok, decision.Result.Code);
        return decision.Events.Aggregate(state, NodeState.Apply);
    }

    private static NodeRegistryState RunRegistry(NodeRegistryState state, INodeRegistryCommand command, AddressingSettings settings)
    {
        var decision = NodeRegistryState.Decide(state, command, settings, new Random(1));
        Assert.Equal(ResultCode.Ok, decision.Result.Code);
        return decision.Events.Aggregate(state, NodeRegistryState.Apply);
    }

    private static NodeRegistryState Reserve(NodeRegistryState state, AddressingSettings settings, ulong id, MachineKey machine, NodeKey key, string host) =>
        RunRegistry(state, new ReserveNode(new NodeId(id), machine, key, new UserId(1), host, false, Now, Cli), settings);
}
