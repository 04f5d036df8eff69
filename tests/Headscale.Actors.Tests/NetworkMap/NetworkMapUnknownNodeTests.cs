using Akka.Actor;
using Headscale.Actors.NetworkMap;
using Headscale.Protocol.Tailcfg;
using static Headscale.Actors.NetworkMap.NetworkMapCommands;

namespace Headscale.Actors.Tests.NetworkMap;

/// <summary>
/// A client may ask for its map before its registration's event has reached this host's network map: the
/// subscription waits for the node instead of failing, and fails only if the node is deleted meanwhile.
/// </summary>
public sealed class NetworkMapUnknownNodeTests : Akka.TestKit.Xunit.TestKit
{
    private static readonly MapSettings Settings = new("tail.example.com", "{}"u8.ToArray(), new DnsConfig(), DisableLogTail: true);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static PeerView Node(long id) => new()
    {
        Id = id,
        UserId = 1,
        UserLogin = "alice",
        GivenName = $"n{id}",
        NodeKey = "nodekey:" + new string('1', 64),
        MachineKey = "mkey:" + new string('2', 64),
        Addresses = [$"100.64.0.{id}/32"],
        Created = DateTimeOffset.UnixEpoch,
        Endpoints = [],
    };

    private IActorRef NewMap() =>
        Sys.ActorOf(Props.Create(() => new NetworkMapActor(Settings, AllowAllPolicy.Instance, TimeProvider.System, TimeSpan.FromMinutes(1), "", null, null)));

    [Fact]
    public async Task A_subscription_that_arrives_before_its_node_gets_the_full_map_once_the_node_arrives()
    {
        var map = NewMap();
        map.Tell(new NodeUpdated(Node(1)));
        var early = CreateTestProbe();

        map.Tell(new Subscribe(2, early.Ref));
        map.Tell(new NodeUpdated(Node(2)));

        var full = await early.ExpectMsgAsync<MapResponse>(cancellationToken: Ct);
        Assert.Equal(2, full.Node!.Id);
        Assert.Equal([1L], full.Peers!.Value.Select(p => p.Id));
    }

    [Fact]
    public async Task A_waiting_subscription_is_rejected_when_its_node_is_deleted_and_others_are_unaffected()
    {
        var map = NewMap();
        map.Tell(new NodeUpdated(Node(1)));
        var viewer = CreateTestProbe();
        map.Tell(new Subscribe(1, viewer.Ref));
        await viewer.ExpectMsgAsync<MapResponse>(cancellationToken: Ct);
        var waiting = CreateTestProbe();

        map.Tell(new Subscribe(3, waiting.Ref));
        map.Tell(new NodeRemoved(3));

        Assert.Equal("node was deleted", (await waiting.ExpectMsgAsync<SubscribeRejected>(cancellationToken: Ct)).Reason);
        map.Tell(new NodeUpdated(Node(4)));
        var joined = await viewer.ExpectMsgAsync<MapDelta>(cancellationToken: Ct);
        Assert.Equal(4, Assert.Single(joined.Response.PeersChanged!.Value).Id);
    }
}
