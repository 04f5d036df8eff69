using System.Collections.Immutable;
using Akka.Actor;
using Akka.Configuration;
using Akka.Serialization;
using Headscale.Actors.ApiKeys;
using Headscale.Actors.Auditing;
using Headscale.Actors.Identity;
using Headscale.Actors.Policy;
using Headscale.Actors.Nodes;
using Headscale.Actors.Nodes.Messages;
using Headscale.Actors.PreAuthKeys;
using Headscale.Actors.PreAuthKeys.Messages;
using Headscale.Actors.Registration.Messages;
using Headscale.Actors.Users;
using Headscale.Actors.Users.Messages;
using Headscale.Actors.Serialization;

namespace Headscale.Actors.Tests;

public sealed class SerializationTests : IDisposable
{
    private readonly ActorSystem _system;

    public SerializationTests()
    {
        // The same binding the server uses: every IHeadscaleSerializable goes to HeadscaleSerializer.
        var config = ConfigurationFactory.ParseString($$"""
            akka.actor.serializers.headscale = "{{typeof(HeadscaleSerializer).AssemblyQualifiedName}}"
            akka.actor.serialization-bindings {
              "{{typeof(IHeadscaleSerializable).AssemblyQualifiedName}}" = headscale
            }
            akka.actor.serialization-identifiers {
              "{{typeof(HeadscaleSerializer).AssemblyQualifiedName}}" = {{HeadscaleSerializer.SerializerId}}
            }
            """);
        _system = ActorSystem.Create("serialization", config);
    }

    public static TheoryData<object> Samples() =>
    [
        new IdAllocatorEvents.IdsReserved(IdKind.Node, 128),
        new IdAllocatorCommands.AllocateId(IdKind.User),
        new IdAllocatorCommands.IdAllocated(IdKind.PreAuthKey, ulong.MaxValue),
        new IdAllocatorState(ImmutableDictionary<IdKind, ulong>.Empty.Add(IdKind.Node, 64).Add(IdKind.ApiKey, 3)),
        Key,
        new ApiKeyState(ImmutableDictionary<string, ApiKeyRecord>.Empty.Add(Key.Prefix, Key), 7),
        new ApiKeyCommands.CreateApiKey("abcdefg", "$2a$10$hash", At, At, CliCause),
        new ApiKeyCommands.ExpireApiKey("abcdefg", At, At, ApiCause),
        new ApiKeyCommands.DeleteApiKey("abcdefg", At, CliCause),
        new ApiKeyCommands.GetApiKey("abcdefg"),
        ApiKeyCommands.ListApiKeys.Instance,
        new ApiKeyCommands.ApiKeyResult(ApiKeyCommands.ApiKeyResultCode.Conflict, Key, "exists"),
        new ApiKeyCommands.ApiKeyList([Key]),
        new ApiKeyEvents.ApiKeyCreated(3, "abcdefg", "$2a$10$hash", At, At, CliCause),
        new ApiKeyEvents.ApiKeyExpired("abcdefg", At, At, ApiCause),
        new ApiKeyEvents.ApiKeyDeleted("abcdefg", At, Cause.System("cleanup")),
        new PolicyCommands.SetPolicy("{\"acls\":[]}", At, ApiCause),
        PolicyCommands.GetPolicy.Instance,
        new PolicyCommands.PolicyResult(PolicyCommands.PolicyResultCode.Invalid, "", null, 4, "parse error"),
        new PolicyState(2, "{}", At),
        new PolicyEvents.PolicyChanged(2, "{}", At, CliCause),
        new Headscale.Actors.Auditing.AuditEvents.RegistrationRefused("mkey:" + new string('a', 64), "preauthkey", "invalid authkey", 2, At, At, Cause.Client("mkey:" + new string('a', 64))),
        new Headscale.Actors.Auditing.AuditEvents.ApiAuthenticationFailed("abcdefg", "wrong-secret", "192.0.2.7", 3, At, At, new Cause(CauseKind.Api, "abcdefg") { Via = "ListUsers" }),
        .. LifecycleSamples(),
    ];

    private static readonly Cause CliCause = new(CauseKind.Cli, "");
    private static readonly Cause ApiCause = new(CauseKind.Api, "abcdefg");
    private static readonly ApiKeyRecord Key = new(7, "abcdefg", "$2a$10$hash", null, At, At.AddDays(1));
    private static readonly DateTimeOffset At = new(2026, 3, 4, 5, 6, 7, TimeSpan.FromHours(2));
    private static readonly Cause Why = new(CauseKind.PreAuthKey, "42");
    private static readonly UserId Uid = new(7);
    private static readonly NodeId Nid = new(9);
    private static readonly PreAuthKeyId Kid = new(11);

    private static object[] LifecycleSamples()
    {
        var user = new User(Uid, "alice", "Alice", "alice@example.com", At);
        var key = new PreAuthKey(Kid, Uid, "AbCdEfGhIjKl", "$2a$10$hash", "", true, false, true, At.AddHours(1), At, ["tag:a"]);
        var entry = new NodeIndexEntry(Nid, TestKeys.Machine(1), TestKeys.Node(1), Uid, "host", "100.64.0.1", "fd7a:115c:a1e0::1", true);
        var node = new Node(Nid, TestKeys.Machine(1), TestKeys.Node(1), Uid, "Host", "host", "100.64.0.1", "fd7a:115c:a1e0::1",
            At.AddDays(1), false, ["tag:a", "tag:b"], Kid, RegisterMethod.AuthKey, At, At, null);
        var pending = new PendingRegistration("abcdefghijklmnopqrstuvwx", TestKeys.Machine(2), TestKeys.Node(2), "desk", null, false, At)
        {
            AnnouncedRoutes = ["10.0.0.0/24"],
        };
        var described = node with
        {
            Hostinfo = "{\"Hostname\":\"Host\",\"RoutableIPs\":[\"10.0.0.0/24\"]}",
            DiscoKey = "discokey:" + new string('a', 64),
            AnnouncedRoutes = ["10.0.0.0/24"],
            ApprovedRoutes = ["10.0.0.0/24", "0.0.0.0/0", "::/0"],
        };
        return
        [
            CommandResult.Fail(ResultCode.Conflict, "taken"),
            user,
            new UserCommands.CreateUser(Uid, "alice", "Alice", "a@b", At, Why),
            new UserCommands.RenameUser(Uid, "bob", At, Cause.Cli("users rename")),
            new UserCommands.DeleteUser(Uid, At, Cause.Api("abcdefg")),
            new UserCommands.UserCommandResult(CommandResult.Ok, user),
            new UserEvents.UserCreated(Uid, "alice", "Alice", "a@b", At, Why),
            new UserEvents.UserRenamed(Uid, "alice", "bob", At, Why),
            new UserEvents.UserDeleted(Uid, "bob", At, Why),
            UserQueries.ListUsers.Instance,
            new UserQueries.GetUser(null, "alice"),
            new UserQueries.UserList([user]),
            key,
            new PreAuthKeyCommands.CreatePreAuthKey(Kid, Uid, "", "", "00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff", false, true, At, [], At, Why),
            new PreAuthKeyCommands.ExpirePreAuthKey(Kid, At, Why),
            new PreAuthKeyCommands.UsePreAuthKey(Kid, At, Why),
            new PreAuthKeyCommands.RevertPreAuthKeyUse(Kid, At, Why),
            new PreAuthKeyCommands.DeletePreAuthKey(Kid, At, Why),
            new PreAuthKeyCommands.PreAuthKeyCommandResult(CommandResult.NoOp, key),
            new PreAuthKeyEvents.PreAuthKeyCreated(Kid, Uid, "AbCdEfGhIjKl", "$2a$04$x", "", true, true, At, ["tag:x"], At, Why),
            new PreAuthKeyEvents.PreAuthKeyExpired(Kid, At, Why),
            new PreAuthKeyEvents.PreAuthKeyUsed(Kid, At, Why),
            new PreAuthKeyEvents.PreAuthKeyUseReverted(Kid, At, Why),
            new PreAuthKeyEvents.PreAuthKeyDeleted(Kid, At, Why),
            new PreAuthKeyQueries.FindPreAuthKey("AbCdEfGhIjKl", ""),
            new PreAuthKeyQueries.ListPreAuthKeys(Uid),
            new PreAuthKeyQueries.PreAuthKeyList([key]),
            entry,
            new NodeRegistryCommands.ReserveNode(Nid, TestKeys.Machine(1), TestKeys.Node(1), Uid, "Host", true, At, Why),
            new NodeRegistryCommands.RebindNode(Nid, TestKeys.Node(3), false, At, Why),
            new NodeRegistryCommands.ChangeGivenName(Nid, "new-name", At, Why),
            new NodeRegistryCommands.ReleaseNode(Nid, At, Why),
            new NodeRegistryCommands.NodeRegistryResult(CommandResult.Ok, entry),
            new NodeRegistryEvents.NodeReserved(Nid, TestKeys.Machine(1), TestKeys.Node(1), Uid, "host", "100.64.0.1", "", false, At, Why),
            new NodeRegistryEvents.NodeRebound(Nid, TestKeys.Node(4), true, At, Why),
            new NodeRegistryEvents.GivenNameChanged(Nid, "other", At, Why),
            new NodeRegistryEvents.NodeReleased(Nid, At, Why),
            new NodeRegistryQueries.FindByMachineKey(TestKeys.Machine(1)),
            new NodeRegistryQueries.FindByNodeKey(TestKeys.Node(1)),
            new NodeRegistryQueries.ListIndex(null, Uid),
            new NodeRegistryQueries.NodeIndexList([entry]),
            new NodeRegistrySnapshot([entry], "100.64.0.1", "fd7a:115c:a1e0::1"),
            node,
            new NodeCommands.RegisterNode(Nid, TestKeys.Machine(1), TestKeys.Node(1), Uid, "Host", "host", "100.64.0.1", "", null, false, ["tag:a"], null, RegisterMethod.Cli, At, Why),
            new NodeCommands.ReauthenticateNode(Nid, TestKeys.Node(2), "Host", At, true, [], Kid, RegisterMethod.AuthKey, At, Why),
            new NodeCommands.RotateNodeKey(Nid, TestKeys.Node(1), TestKeys.Node(2), At, Why),
            new NodeCommands.ExpireNode(Nid, At, At, Why),
            new NodeCommands.RenameNode(Nid, "renamed", At, Why),
            new NodeCommands.DeleteNode(Nid, At, Why),
            new NodeCommands.NodeConnected(Nid, At),
            new NodeCommands.NodeDisconnected(Nid, At),
            new NodeCommands.NodeCommandResult(CommandResult.Ok, node),
            new NodeEvents.NodeRegistered(node, At, Why),
            new NodeEvents.NodeReauthenticated(Nid, TestKeys.Node(2), "Host", null, false, ["tag:z"], null, RegisterMethod.Api, At, Why),
            new NodeEvents.NodeKeyRotated(Nid, TestKeys.Node(1), TestKeys.Node(2), At, Why),
            new NodeEvents.NodeExpired(Nid, At, At, Why),
            new NodeEvents.NodeRenamed(Nid, "a", "b", At, Why),
            new NodeEvents.NodeDeleted(Nid, At, Why),
            new NodeEvents.NodeLastSeen(Nid, At, Why),
            new NodeQueries.GetNode(Nid),
            new NodeCommands.UpdateHostinfo(Nid, "{}", "host", ["10.0.0.0/8"], At, Why),
            new NodeCommands.UpdateDiscoKey(Nid, "discokey:" + new string('b', 64), At, Why),
            new NodeCommands.SetApprovedRoutes(Nid, ["10.0.0.0/8", "::/0"], At, Why),
            new NodeCommands.SetTags(Nid, ["tag:web"], At, Why),
            new NodeCommands.MoveNode(Nid, new UserId(8), At, Why),
            new NodeCommands.AssignAddresses(Nid, "", "fd7a:115c:a1e0::9", At, Why),
            new NodeEvents.HostinfoChanged(Nid, "{\"OS\":\"linux\"}", "host", ["192.168.0.0/16"], At, Why),
            new NodeEvents.DiscoKeyChanged(Nid, "discokey:" + new string('c', 64), At, Why),
            new NodeEvents.ApprovedRoutesChanged(Nid, ["0.0.0.0/0", "::/0"], At, Why),
            new NodeEvents.TagsChanged(Nid, ["tag:a"], ["tag:b", "tag:c"], At, Why),
            new NodeEvents.NodeMoved(Nid, Uid, new UserId(8), At, Why),
            new NodeEvents.AddressesAssigned(Nid, "100.64.0.9", "", At, Why),
            new NodeQueries.GetNodeVersion(Nid),
            new NodeNotifications.NodeChanged(Nid, 12, described),
            new NodeRegistryCommands.ChangeOwner(Nid, new UserId(8), At, Why),
            new NodeRegistryCommands.BackfillAddresses(Nid, At, Why),
            new NodeRegistryEvents.OwnerChanged(Nid, new UserId(8), At, Why),
            new NodeRegistryEvents.AddressesBackfilled(Nid, "100.64.0.9", "", At, Why),
            new UserNotifications.UserChanged(Uid, user),
            new Headscale.Actors.Policy.PolicyNotifications.PolicyTextChanged(3, "{}"),
            new Headscale.Actors.NetworkMap.EndpointNotifications.EndpointsReported(9, ["192.0.2.1:41641"], "", 3, "akka.tcp://headscale@10.0.0.1:4053"),
            new Headscale.Actors.NetworkMap.OnlineNotifications.OnlineReported(9, false, true, "akka.tcp://headscale@10.0.0.1:4053", 17),
            new Headscale.Actors.NetworkMap.OnlineNotifications.OnlineSnapshot("akka.tcp://headscale@10.0.0.1:4053", 18, [3, 9]),
            new Headscale.Actors.NetworkMap.OnlineNotifications.OnlineSnapshotRequested("akka.tcp://headscale@10.0.0.2:4053"),
            pending,
            new PendingRegistrationCommands.StartRegistration(pending),
            new PendingRegistrationCommands.AwaitRegistration("abcdefghijklmnopqrstuvwx", TestKeys.Machine(2)),
            new PendingRegistrationCommands.ClaimRegistration("abcdefghijklmnopqrstuvwx"),
            new PendingRegistrationCommands.PeekRegistration("abcdefghijklmnopqrstuvwx"),
            new PendingRegistrationCommands.FinishRegistration("abcdefghijklmnopqrstuvwx", Nid, ""),
            new PendingRegistrationCommands.ClaimResult(CommandResult.Ok, pending),
            new PendingRegistrationCommands.RegistrationVerdict("abcdefghijklmnopqrstuvwx", RegistrationVerdictKind.Completed, Nid, ""),
        ];
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void Every_serializable_type_round_trips_through_our_serializer(object sample)
    {
        var serializer = _system.Serialization.FindSerializerFor(sample);
        Assert.IsType<HeadscaleSerializer>(serializer);

        var bytes = serializer.ToBinary(sample);
        var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, sample);
        var back = _system.Serialization.Deserialize(bytes, serializer.Identifier, manifest);

        if (sample is IdAllocatorState state)
        {
            var restored = Assert.IsType<IdAllocatorState>(back);
            Assert.Equal(state.ReservedUpTo.OrderBy(p => p.Key), restored.ReservedUpTo.OrderBy(p => p.Key));
        }
        else if (sample is ApiKeyState keys)
        {
            var restored = Assert.IsType<ApiKeyState>(back);
            Assert.Equal(keys.LastId, restored.LastId);
            Assert.Equal(keys.Keys.OrderBy(p => p.Key), restored.Keys.OrderBy(p => p.Key));
        }
        else if (sample is ApiKeyCommands.ApiKeyList list)
        {
            Assert.Equal(list.Keys, Assert.IsType<ApiKeyCommands.ApiKeyList>(back).Keys);
        }
        else
        {
            // Records holding immutable arrays compare those by reference, so compare the bytes of a
            // second serialization instead: a lossy round trip shows up as different bytes.
            Assert.IsType(sample.GetType(), back);
            Assert.Equal(serializer.ToBinary(sample), serializer.ToBinary(back!));
            if (sample is CommandResult or NodeId or NodeCommands.DeleteNode or NodeRegistryEvents.NodeReserved)
            {
                Assert.Equal(sample, back);
            }
        }
    }

    [Fact]
    public void A_node_stored_before_it_had_hostinfo_and_routes_reads_with_empty_ones()
    {
        var node = new Node(Nid, TestKeys.Machine(1), TestKeys.Node(1), Uid, "Host", "host", "100.64.0.1", "", null, false, [], null,
            RegisterMethod.Cli, At, At, null);
        var serializer = (SerializerWithStringManifest)_system.Serialization.FindSerializerFor(node);
        var json = System.Text.Json.Nodes.JsonNode.Parse(serializer.ToBinary(node))!.AsObject();
        foreach (var added in new[] { "hostinfo", "discoKey", "announcedRoutes", "approvedRoutes" })
        {
            Assert.True(json.Remove(added), added);
        }

        var back = Assert.IsType<Node>(serializer.FromBinary(System.Text.Encoding.UTF8.GetBytes(json.ToJsonString()), "node.n"));
        Assert.Equal("", back.Hostinfo);
        Assert.Equal("", back.DiscoKey);
        Assert.Empty(back.AnnouncedRoutes);
        Assert.Empty(back.ApprovedRoutes);
    }

    [Fact]
    public void Every_registered_type_has_a_sample_and_a_unique_manifest()
    {
        var sampled = Samples().Select(row => row.Data.GetType()).ToHashSet();
        Assert.Equal(SerializableTypes.ByType.Keys.OrderBy(t => t.FullName), sampled.OrderBy(t => t.FullName));
        Assert.Equal(SerializableTypes.ByType.Count, SerializableTypes.ByManifest.Count);
    }

    [Fact]
    public void Manifests_are_permanent()
    {
        // Changing any of these breaks every journal written before: add new manifests instead.
        Assert.Equal("ida.r", SerializableTypes.ByType[typeof(IdAllocatorEvents.IdsReserved)].Manifest);
        Assert.Equal("ida.s", SerializableTypes.ByType[typeof(IdAllocatorState)].Manifest);
        Assert.Equal("node.er", SerializableTypes.ByType[typeof(NodeEvents.NodeRegistered)].Manifest);
        Assert.Equal("nreg.er", SerializableTypes.ByType[typeof(NodeRegistryEvents.NodeReserved)].Manifest);
        Assert.Equal("nreg.s", SerializableTypes.ByType[typeof(NodeRegistrySnapshot)].Manifest);
        Assert.Equal("pak.ec", SerializableTypes.ByType[typeof(PreAuthKeyEvents.PreAuthKeyCreated)].Manifest);
        Assert.Equal("pak.eu", SerializableTypes.ByType[typeof(PreAuthKeyEvents.PreAuthKeyUsed)].Manifest);
        Assert.Equal("usr.ec", SerializableTypes.ByType[typeof(UserEvents.UserCreated)].Manifest);
        Assert.Equal("node.ehi", SerializableTypes.ByType[typeof(NodeEvents.HostinfoChanged)].Manifest);
        Assert.Equal("node.ear", SerializableTypes.ByType[typeof(NodeEvents.ApprovedRoutesChanged)].Manifest);
        Assert.Equal("node.et", SerializableTypes.ByType[typeof(NodeEvents.TagsChanged)].Manifest);
        Assert.Equal("node.emv", SerializableTypes.ByType[typeof(NodeEvents.NodeMoved)].Manifest);
        Assert.Equal("node.eip", SerializableTypes.ByType[typeof(NodeEvents.AddressesAssigned)].Manifest);
        Assert.Equal("node.edk", SerializableTypes.ByType[typeof(NodeEvents.DiscoKeyChanged)].Manifest);
        Assert.Equal("nmap.on", SerializableTypes.ByType[typeof(Headscale.Actors.NetworkMap.OnlineNotifications.OnlineReported)].Manifest);
        Assert.Equal("nmap.ons", SerializableTypes.ByType[typeof(Headscale.Actors.NetworkMap.OnlineNotifications.OnlineSnapshot)].Manifest);
        Assert.Equal("nmap.onq", SerializableTypes.ByType[typeof(Headscale.Actors.NetworkMap.OnlineNotifications.OnlineSnapshotRequested)].Manifest);
        Assert.Equal(150, HeadscaleSerializer.SerializerId);
    }

    [Fact]
    public void Unknown_manifest_and_unregistered_type_are_rejected()
    {
        var serializer = (SerializerWithStringManifest)_system.Serialization.FindSerializerForType(typeof(IHeadscaleSerializable));
        Assert.Throws<System.Runtime.Serialization.SerializationException>(() => serializer.FromBinary([1, 2], "no-such"));
        Assert.Throws<ArgumentException>(() => serializer.ToBinary("a string"));
    }

    public void Dispose() => _system.Dispose();
}
