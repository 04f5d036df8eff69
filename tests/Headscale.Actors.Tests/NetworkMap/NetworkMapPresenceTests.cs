using System.Threading.Channels;
using Akka.Actor;
using Headscale.Actors.NetworkMap;
using Headscale.Actors.Nodes;
using Headscale.Protocol.Tailcfg;
using static Headscale.Actors.NetworkMap.NetworkMapCommands;
using static Headscale.Actors.Nodes.Messages.NodeCommands;

namespace Headscale.Actors.Tests.NetworkMap;

/// <summary>The network map tells the node entity when a node's first stream starts and when it has gone offline.</summary>
public sealed class NetworkMapPresenceTests : Akka.TestKit.Xunit.TestKit
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

    [Fact]
    public async Task First_stream_reports_connected_and_going_offline_reports_disconnected_once()
    {
        var presence = CreateTestProbe();
        var map = Sys.ActorOf(Props.Create(() => new NetworkMapActor(
            Settings, AllowAllPolicy.Instance, TimeProvider.System, TimeSpan.FromMilliseconds(100), "", presence.Ref, null)));
        map.Tell(new NodeUpdated(Node(1)));
        var first = CreateTestProbe();
        var second = CreateTestProbe();

        map.Tell(new Subscribe(1, first.Ref));
        await first.ExpectMsgAsync<MapResponse>(cancellationToken: Ct);
        Assert.Equal(new NodeId(1), (await presence.ExpectMsgAsync<NodeConnected>(cancellationToken: Ct)).Id);

        map.Tell(new Subscribe(1, second.Ref));
        await second.ExpectMsgAsync<MapResponse>(cancellationToken: Ct);
        map.Tell(new Unsubscribe(1, first.Ref));
        map.Tell(new Unsubscribe(1, second.Ref));
        Assert.Equal(new NodeId(1), (await presence.ExpectMsgAsync<NodeDisconnected>(cancellationToken: Ct)).Id);
        await presence.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300), Ct);
    }

    [Fact]
    public async Task A_node_key_expiring_while_its_peer_is_connected_is_pushed_when_the_time_comes()
    {
        var map = Sys.ActorOf(Props.Create(() => new NetworkMapActor(Settings, AllowAllPolicy.Instance, TimeProvider.System, TimeSpan.FromMinutes(1), "", null, null)));
        map.Tell(new NodeUpdated(Node(1)));
        map.Tell(new NodeUpdated(Node(2) with { KeyExpiry = DateTimeOffset.UtcNow.AddSeconds(1) }));
        var viewer = CreateTestProbe();
        map.Tell(new Subscribe(1, viewer.Ref));
        var peer = Assert.Single((await viewer.ExpectMsgAsync<MapResponse>(cancellationToken: Ct)).Peers!.Value);
        Assert.False(peer.Expired);

        var change = await viewer.FishForMessageAsync<MapDelta>(d => d.Response.PeersChanged is { } changed && changed.Any(p => p.Id == 2),
            TimeSpan.FromSeconds(20), cancellationToken: Ct);
        Assert.True(change.Response.PeersChanged!.Value.Single(p => p.Id == 2).Expired);
    }

    [Fact]
    public async Task An_update_of_the_persisted_view_keeps_online_status_and_endpoints()
    {
        var map = Sys.ActorOf(Props.Create(() => new NetworkMapActor(Settings, AllowAllPolicy.Instance, TimeProvider.System, TimeSpan.FromMinutes(1), "", null, null)));
        map.Tell(new NodeUpdated(Node(1)));
        map.Tell(new NodeUpdated(Node(2)));
        var session = CreateTestProbe();
        map.Tell(new Subscribe(2, session.Ref));
        await session.ExpectMsgAsync<MapResponse>(cancellationToken: Ct);
        map.Tell(new EndpointsUpdated(2, ["192.0.2.1:41641"], null, 3));
        map.Tell(new NodeUpdated(Node(2) with { GivenName = "renamed" }));

        var viewer = CreateTestProbe();
        map.Tell(new Subscribe(1, viewer.Ref));
        var full = (await viewer.ExpectMsgAsync<MapResponse>(cancellationToken: Ct));
        var peer = Assert.Single(full.Peers!.Value);
        Assert.Equal("renamed.tail.example.com.", peer.Name);
        Assert.True(peer.Online);
        Assert.Equal(["192.0.2.1:41641"], peer.Endpoints);
        Assert.Equal(3, peer.HomeDerp);
    }
}
