using Akka.Actor;
using Akka.TestKit;
using Headscale.Actors.NetworkMap;
using Headscale.Actors.Nodes;
using Headscale.Protocol.Tailcfg;
using static Headscale.Actors.NetworkMap.NetworkMapCommands;
using static Headscale.Actors.NetworkMap.OnlineNotifications;
using static Headscale.Actors.Nodes.Messages.NodeCommands;

namespace Headscale.Actors.Tests.NetworkMap;

/// <summary>
/// Online status counted over every host: one map, with the other hosts' edges told to it as its feed
/// would, its own edges caught where it publishes them, and the node entity as a probe.
/// </summary>
public sealed class NetworkMapOnlineAcrossHostsTests : Akka.TestKit.Xunit.TestKit
{
    private const string HostB = "akka.tcp://headscale@192.0.2.2:4053";
    private const string HostC = "akka.tcp://headscale@192.0.2.3:4053";
    private const string Route = "10.1.0.0/24";
    private static readonly MapSettings Settings = new("tail.example.com", "{}"u8.ToArray(), new DnsConfig(), DisableLogTail: true);
    private static readonly TimeSpan Grace = TimeSpan.FromMilliseconds(200);

    private readonly TestProbe _presence;
    private readonly TestProbe _published;
    private readonly IActorRef _map;

    public NetworkMapOnlineAcrossHostsTests()
    {
        _presence = CreateTestProbe();
        _published = CreateTestProbe();
        var presence = _presence.Ref;
        var published = _published.Ref;
        _map = Sys.ActorOf(Props.Create(() => new NetworkMapActor(
            Settings, AllowAllPolicy.Instance, TimeProvider.System, Grace, "", presence, null, null, m => published.Tell(m, ActorRefs.NoSender))));
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string ThisHost(ActorSystem system) => EndpointNotifications.OriginOf(system);

    /// <summary>Node 1 routes <see cref="Route"/> (announced and approved); the others are plain.</summary>
    private static PeerView Node(long id) => new()
    {
        Id = id,
        UserId = 1,
        UserLogin = "alice",
        GivenName = $"n{id}",
        NodeKey = "nodekey:" + new string((char)('0' + id), 64),
        MachineKey = "mkey:" + new string('2', 64),
        Addresses = [$"100.64.0.{id}/32"],
        Created = DateTimeOffset.UnixEpoch,
        Endpoints = [],
        AnnouncedRoutes = id == 1 ? [Route] : [],
        ApprovedRoutes = id == 1 ? [Route] : [],
    };

    /// <summary>Node 2 streams here; returns its session after the first full map.</summary>
    private async Task<TestProbe> ViewerAsync()
    {
        _map.Tell(new NodeUpdated(Node(1)));
        _map.Tell(new NodeUpdated(Node(2)));
        var viewer = CreateTestProbe();
        _map.Tell(new Subscribe(2, viewer.Ref));
        await viewer.ExpectMsgAsync<MapResponse>(cancellationToken: Ct);
        await _published.ExpectMsgAsync<OnlineReported>(r => r.NodeId == 2 && r.Online, cancellationToken: Ct);
        await _presence.ExpectMsgAsync<NodeConnected>(cancellationToken: Ct);
        return viewer;
    }

    private async Task<NodeStatus> StatusOfNode1Async() =>
        (await _map.Ask<NodeStatusList>(new GetNodeStatus([1]), Ct)).Nodes.Single();

    private static async Task<bool> NextOnlineChangeOfNode1Async(TestProbe viewer)
    {
        while (true)
        {
            var update = (await viewer.ExpectMsgAsync<MapDelta>(cancellationToken: Ct)).Response;
            if (update.OnlineChange is { } change && change.TryGetValue(1, out var online))
            {
                return online;
            }
        }
    }

    [Fact]
    public async Task A_node_streaming_to_another_host_is_online_here_and_its_route_gets_a_primary()
    {
        var viewer = await ViewerAsync();
        Assert.Empty((await StatusOfNode1Async()).PrimaryRoutes);

        _map.Tell(new OnlineReported(1, true, false, HostB, 1));

        Assert.True(await NextOnlineChangeOfNode1Async(viewer));
        var status = await StatusOfNode1Async();
        Assert.True(status.Online);
        Assert.Equal([Route], status.PrimaryRoutes);
        // The host holding the stream told the node entity; this one does not.
        await _presence.ExpectNoMsgAsync(Grace * 2, Ct);
    }

    [Fact]
    public async Task The_node_stays_online_while_any_host_has_a_stream_and_goes_offline_with_the_last()
    {
        var viewer = await ViewerAsync();
        _map.Tell(new OnlineReported(1, true, false, HostB, 1));
        _map.Tell(new OnlineReported(1, true, false, HostC, 1));
        Assert.True(await NextOnlineChangeOfNode1Async(viewer));

        // B's stream ended while C still had one.
        _map.Tell(new OnlineReported(1, false, false, HostB, 2));
        Assert.True((await StatusOfNode1Async()).Online);

        // C's ended too, and C saw no other stream: it told the entity itself.
        _map.Tell(new OnlineReported(1, false, true, HostC, 2));
        Assert.False(await NextOnlineChangeOfNode1Async(viewer));
        var status = await StatusOfNode1Async();
        Assert.False(status.Online);
        Assert.Empty(status.PrimaryRoutes);
        await _presence.ExpectNoMsgAsync(Grace * 2, Ct);
    }

    [Fact]
    public async Task When_the_last_host_believed_another_still_streamed_a_receiver_tells_the_node_entity()
    {
        var viewer = await ViewerAsync();
        _map.Tell(new OnlineReported(1, true, false, HostB, 1));
        Assert.True(await NextOnlineChangeOfNode1Async(viewer));

        _map.Tell(new OnlineReported(1, false, false, HostB, 2));

        Assert.False(await NextOnlineChangeOfNode1Async(viewer));
        Assert.Equal(new NodeId(1), (await _presence.ExpectMsgAsync<NodeDisconnected>(cancellationToken: Ct)).Id);
    }

    [Fact]
    public async Task A_host_that_leaves_or_crashes_takes_its_marks_with_it_after_the_grace()
    {
        var viewer = await ViewerAsync();
        _map.Tell(new NodeUpdated(Node(3)));
        _map.Tell(new OnlineReported(1, true, false, HostB, 1));
        _map.Tell(new OnlineReported(3, true, false, HostB, 2));
        _map.Tell(new OnlineReported(3, true, false, HostC, 1));
        Assert.True(await NextOnlineChangeOfNode1Async(viewer));

        // B crashed and was removed from the cluster: it never published its offline edges.
        _map.Tell(new OriginLeft(HostB));

        Assert.False(await NextOnlineChangeOfNode1Async(viewer));
        Assert.Equal(new NodeId(1), (await _presence.ExpectMsgAsync<NodeDisconnected>(cancellationToken: Ct)).Id);
        var statuses = (await _map.Ask<NodeStatusList>(new GetNodeStatus([1, 3]), Ct)).Nodes.ToDictionary(s => s.NodeId);
        Assert.False(statuses[1].Online);
        Assert.True(statuses[3].Online);
        await _presence.ExpectNoMsgAsync(Grace * 2, Ct);

        // A later incarnation at B's address starts its sequence anew.
        _map.Tell(new OnlineReported(1, true, false, HostB, 1));
        Assert.True(await NextOnlineChangeOfNode1Async(viewer));
    }

    [Fact]
    public async Task A_node_that_reconnects_to_another_host_within_the_grace_never_goes_offline()
    {
        var viewer = await ViewerAsync();
        _map.Tell(new OnlineReported(1, true, false, HostB, 1));
        Assert.True(await NextOnlineChangeOfNode1Async(viewer));
        _map.Tell(new OriginLeft(HostB));
        _map.Tell(new OnlineReported(1, true, false, HostC, 1));

        // Past the grace started by B's departure: the entity was not told, the node is online.
        await _presence.ExpectNoMsgAsync(Grace * 3, Ct);
        Assert.True((await StatusOfNode1Async()).Online);
    }

    [Fact]
    public async Task This_host_publishes_its_own_edges_once_and_holds_back_the_entity_while_another_host_streams()
    {
        await ViewerAsync();
        var origin = ThisHost(Sys);
        _map.Tell(new NodeUpdated(Node(3)));
        var first = CreateTestProbe();
        _map.Tell(new Subscribe(3, first.Ref));
        await first.ExpectMsgAsync<MapResponse>(cancellationToken: Ct);
        await _presence.ExpectMsgAsync<NodeConnected>(cancellationToken: Ct);
        var online = await _published.ExpectMsgAsync<OnlineReported>(cancellationToken: Ct);
        Assert.Equal((3L, true, origin), (online.NodeId, online.Online, online.Origin));

        // A reconnect within the grace publishes nothing.
        _map.Tell(new Unsubscribe(3, first.Ref));
        var second = CreateTestProbe();
        _map.Tell(new Subscribe(3, second.Ref));
        await second.ExpectMsgAsync<MapResponse>(cancellationToken: Ct);
        await _published.ExpectNoMsgAsync(Grace * 2, Ct);

        // The node moves to host B: once the grace passes here, this host's edge says another host streams.
        _map.Tell(new OnlineReported(3, true, false, HostB, 1));
        _map.Tell(new Unsubscribe(3, second.Ref));
        var offline = await _published.ExpectMsgAsync<OnlineReported>(cancellationToken: Ct);
        Assert.Equal((3L, false, false, origin), (offline.NodeId, offline.Online, offline.LastStream, offline.Origin));
        Assert.True(offline.Sequence > online.Sequence);
        Assert.True((await _map.Ask<NodeStatusList>(new GetNodeStatus([3]), Ct)).Nodes.Single().Online);
        await _presence.ExpectNoMsgAsync(Grace, Ct);

        // With no stream anywhere the last edge says so, and this host tells the entity.
        var third = CreateTestProbe();
        _map.Tell(new OnlineReported(3, false, false, HostB, 2));
        await _presence.ExpectMsgAsync<NodeDisconnected>(cancellationToken: Ct);
        _map.Tell(new Subscribe(3, third.Ref));
        await third.ExpectMsgAsync<MapResponse>(cancellationToken: Ct);
        await _presence.ExpectMsgAsync<NodeConnected>(cancellationToken: Ct);
        await _published.ExpectMsgAsync<OnlineReported>(r => r.Online, cancellationToken: Ct);
        _map.Tell(new Unsubscribe(3, third.Ref));
        var last = await _published.ExpectMsgAsync<OnlineReported>(cancellationToken: Ct);
        Assert.Equal((false, true), (last.Online, last.LastStream));
        Assert.Equal(new NodeId(3), (await _presence.ExpectMsgAsync<NodeDisconnected>(cancellationToken: Ct)).Id);
    }

    [Fact]
    public async Task Stale_copies_and_own_edges_are_ignored_and_a_snapshot_replaces_a_host_s_marks()
    {
        var viewer = await ViewerAsync();
        _map.Tell(new NodeUpdated(Node(3)));
        _map.Tell(new OnlineReported(1, true, false, HostB, 5));
        Assert.True(await NextOnlineChangeOfNode1Async(viewer));

        // An older offline edge overtaken by the online one, and this host's own copy from the topic.
        _map.Tell(new OnlineReported(1, false, true, HostB, 4));
        _map.Tell(new OnlineReported(1, false, true, ThisHost(Sys), 99));
        Assert.True((await StatusOfNode1Async()).Online);

        // B's snapshot: node 3 streams there, node 1 no longer (its offline edge was lost).
        _map.Tell(new OnlineSnapshot(HostB, 6, [3]));
        Assert.False(await NextOnlineChangeOfNode1Async(viewer));
        Assert.True((await _map.Ask<NodeStatusList>(new GetNodeStatus([3]), Ct)).Nodes.Single().Online);
        // Whoever saw the offline edge then told the entity.
        await _presence.ExpectNoMsgAsync(Grace, Ct);

        // Asked by a host that joined, this host answers with the nodes streaming here.
        var snapshot = await _map.Ask<OnlineSnapshot>(new OnlineSnapshotRequested(HostC), Ct);
        Assert.Equal(ThisHost(Sys), snapshot.Origin);
        Assert.Equal(new long[] { 2 }, snapshot.NodeIds.ToArray());
        _map.Tell(PublishOnlineSnapshot.Instance);
        var published = await _published.ExpectMsgAsync<OnlineSnapshot>(cancellationToken: Ct);
        Assert.Equal(new long[] { 2 }, published.NodeIds.ToArray());
    }

    [Fact]
    public async Task A_node_this_map_learns_of_after_another_host_reported_its_stream_arrives_online()
    {
        var viewer = await ViewerAsync();
        _map.Tell(new OnlineReported(4, true, false, HostB, 1));
        _map.Tell(new NodeUpdated(Node(4)));

        var update = (await viewer.ExpectMsgAsync<MapDelta>(cancellationToken: Ct)).Response;
        Assert.True(Assert.Single(update.PeersChanged!.Value).Online);
    }

    [Fact]
    public async Task A_restarted_map_numbers_its_reports_after_those_of_its_previous_incarnation()
    {
        _map.Tell(new NodeUpdated(Node(2)));
        _map.Tell(new Subscribe(2, CreateTestProbe().Ref));
        var earlier = await _published.ExpectMsgAsync<OnlineReported>(r => r.NodeId == 2 && r.Online, cancellationToken: Ct);

        // Same host, same origin: other hosts compare its numbers with the previous incarnation's.
        Action<object> publishNowhere = _ => { };
        var restarted = Sys.ActorOf(Props.Create(() => new NetworkMapActor(
            Settings, AllowAllPolicy.Instance, TimeProvider.System, Grace, "", null, null, null, publishNowhere, null)));
        restarted.Tell(new OnlineSnapshotRequested(HostB));
        var snapshot = await ExpectMsgAsync<OnlineSnapshot>(cancellationToken: Ct);

        Assert.Equal(earlier.Origin, snapshot.Origin);
        Assert.True(snapshot.Sequence > earlier.Sequence, $"snapshot {snapshot.Sequence} must follow report {earlier.Sequence}");
    }
}
