using System.Collections.Concurrent;
using Akka.Actor;
using Headscale.Actors.NetworkMap;
using Headscale.Actors.Nodes;
using Headscale.Actors.Nodes.Messages;
using Headscale.Actors.Policy;
using Headscale.Actors.Users;
using Headscale.Actors.Users.Messages;
using static Headscale.Actors.NetworkMap.NetworkMapCommands;

namespace Headscale.Actors.Tests.NetworkMap;

/// <summary>The feed alone, against stand-in singletons: load, ordering by version, and the periodic resync.</summary>
public sealed class NetworkMapFeedActorTests : Akka.TestKit.Xunit.TestKit
{
    private static readonly DateTimeOffset At = new(2026, 5, 6, 7, 8, 9, TimeSpan.Zero);
    private static readonly User Alice = new(new UserId(1), "alice", "", "", At);

    private readonly ConcurrentDictionary<ulong, NodeNotifications.NodeChanged> _entities = new();
    private readonly ConcurrentDictionary<ulong, bool> _listed = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Node NodeNamed(ulong id, string givenName) =>
        new(new NodeId(id), TestKeys.Machine((long)id), TestKeys.Node((long)id), Alice.Id, givenName, givenName,
            $"100.64.0.{id}", "", null, false, [], null, RegisterMethod.Cli, At, At, null);

    private IActorRef Answering(Func<object, object> answer) => Sys.ActorOf(Props.Create(() => new Responder(answer)));

    private IActorRef StartFeed(IActorRef map, TimeSpan resync)
    {
        var registry = Answering(_ => new NodeRegistryQueries.NodeIndexList([.. _listed.Keys.Order().Select(id =>
            new NodeIndexEntry(new NodeId(id), TestKeys.Machine((long)id), TestKeys.Node((long)id), Alice.Id, "n", "", "", false))]));
        var nodes = Answering(q => _entities[((NodeQueries.GetNodeVersion)q).Id.Value]);
        var users = Answering(_ => new UserQueries.UserList([Alice]));
        var policy = Answering(_ => new PolicyCommands.PolicyResult(PolicyCommands.PolicyResultCode.NotFound, "", null, 0, "none"));
        var sources = new FeedSources(registry, nodes, users, policy, NetworkMapPolicySource.Database, null, TimeSpan.FromSeconds(10));
        return Sys.ActorOf(NetworkMapFeedActor.Props(map, sources, resync));
    }

    /// <summary>Nodes 1..<paramref name="count"/> at version 1, a feed past its first load, and the map probe it feeds.</summary>
    private async Task<(IActorRef Feed, Akka.TestKit.TestProbe Map)> LoadedFeedAsync(int count, TimeSpan resync)
    {
        foreach (var id in Enumerable.Range(1, count).Select(i => (ulong)i))
        {
            _listed[id] = true;
            _entities[id] = new NodeNotifications.NodeChanged(new NodeId(id), 1, NodeNamed(id, id == 1 ? "one" : id == 2 ? "two" : $"n{id}"));
        }

        var map = CreateTestProbe();
        var feed = StartFeed(map.Ref, resync);
        await map.ExpectMsgAsync<PolicyUpdated>(cancellationToken: Ct);
        Assert.Equal(count, (await map.ExpectMsgAsync<NodesLoaded>(cancellationToken: Ct)).Views.Length);
        return (feed, map);
    }

    [Fact]
    public async Task The_load_sends_every_node_once_and_older_copies_never_roll_a_node_back()
    {
        _listed[1] = true;
        _entities[1] = new NodeNotifications.NodeChanged(new NodeId(1), 2, NodeNamed(1, "first"));
        var map = CreateTestProbe();
        var feed = StartFeed(map.Ref, TimeSpan.Zero);

        Assert.Null((await map.ExpectMsgAsync<PolicyUpdated>(cancellationToken: Ct)).Policy);
        var loaded = Assert.Single((await map.ExpectMsgAsync<NodesLoaded>(cancellationToken: Ct)).Views);
        Assert.Equal(("first", "alice"), (loaded.GivenName, loaded.UserLogin));
        Assert.Equal(["100.64.0.1/32"], loaded.Addresses);

        feed.Tell(new NodeNotifications.NodeChanged(new NodeId(1), 1, NodeNamed(1, "stale")));
        feed.Tell(new NodeNotifications.NodeChanged(new NodeId(1), 2, NodeNamed(1, "repeat")));
        feed.Tell(new NodeNotifications.NodeChanged(new NodeId(1), 3, NodeNamed(1, "newer")));
        Assert.Equal("newer", (await map.ExpectMsgAsync<NodeUpdated>(cancellationToken: Ct)).View.GivenName);

        feed.Tell(new NodeNotifications.NodeChanged(new NodeId(1), 4, null));
        Assert.Equal(1, (await map.ExpectMsgAsync<NodeRemoved>(cancellationToken: Ct)).NodeId);
    }

    [Fact]
    public async Task A_resync_repairs_a_missed_change_and_a_missed_deletion()
    {
        var (_, map) = await LoadedFeedAsync(2, TimeSpan.FromMilliseconds(100));

        // Changes whose notifications were lost: node 1 renamed, node 2 deleted (and released from the registry).
        _entities[1] = new NodeNotifications.NodeChanged(new NodeId(1), 2, NodeNamed(1, "one-renamed"));
        _entities[2] = new NodeNotifications.NodeChanged(new NodeId(2), 2, null);
        _listed.TryRemove(2, out _);

        var seen = new List<object>();
        while (!(seen.OfType<NodeUpdated>().Any(u => u.View.GivenName == "one-renamed") && seen.OfType<NodeRemoved>().Any(r => r.NodeId == 2)))
        {
            seen.Add(await map.ExpectMsgAsync<object>(TimeSpan.FromSeconds(10), cancellationToken: Ct));
        }

        // Nothing else changed, so later resyncs send nothing but the map's cue to publish its online snapshot.
        Assert.All(seen, m => Assert.True(m is NodeUpdated or NodeRemoved or PublishOnlineSnapshot));
    }

    [Fact]
    public async Task A_restarted_map_gets_the_policy_and_every_node_again_and_another_map_s_restart_is_ignored()
    {
        var (feed, map) = await LoadedFeedAsync(2, TimeSpan.Zero);
        feed.Tell(new NodeNotifications.NodeChanged(new NodeId(2), 2, NodeNamed(2, "two-renamed")));
        await map.ExpectMsgAsync<NodeUpdated>(cancellationToken: Ct);

        Sys.EventStream.Publish(new NetworkMapRestarted(CreateTestProbe().Ref));
        Sys.EventStream.Publish(new NetworkMapRestarted(map.Ref));

        Assert.Null((await map.ExpectMsgAsync<PolicyUpdated>(cancellationToken: Ct)).Policy);
        var again = await map.ExpectMsgAsync<NodesLoaded>(cancellationToken: Ct);
        Assert.Equal(["one", "two-renamed"], again.Views.Select(v => v.GivenName));
        await map.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200), Ct);
    }

    [Fact]
    public async Task Endpoints_reported_on_another_host_reach_this_map_and_this_host_s_own_are_not_applied_twice()
    {
        var (feed, map) = await LoadedFeedAsync(1, TimeSpan.Zero);

        feed.Tell(new EndpointNotifications.EndpointsReported(1, ["192.0.2.1:1"], "", 0, EndpointNotifications.OriginOf(Sys)));
        feed.Tell(new EndpointNotifications.EndpointsReported(1, ["192.0.2.2:2"], "", 4, "akka.tcp://headscale@10.9.9.9:4053"));

        var applied = await map.ExpectMsgAsync<EndpointsUpdated>(cancellationToken: Ct);
        Assert.Equal(["192.0.2.2:2"], applied.Endpoints);
        Assert.Equal((1L, 4, (string?)null), (applied.NodeId, applied.HomeDerp, applied.DiscoKey));
    }

    [Fact]
    public async Task Other_hosts_online_edges_and_snapshots_reach_this_map_and_a_snapshot_request_is_answered_by_it()
    {
        var (feed, map) = await LoadedFeedAsync(1, TimeSpan.Zero);
        const string other = "akka.tcp://headscale@10.9.9.9:4053";

        feed.Tell(new OnlineNotifications.OnlineReported(1, true, false, EndpointNotifications.OriginOf(Sys), 1));
        feed.Tell(new OnlineNotifications.OnlineSnapshot(EndpointNotifications.OriginOf(Sys), 2, [1]));
        feed.Tell(new OnlineNotifications.OnlineReported(1, true, false, other, 1));
        feed.Tell(new OnlineNotifications.OnlineSnapshot(other, 2, [1]));
        Assert.Equal(other, (await map.ExpectMsgAsync<OnlineNotifications.OnlineReported>(cancellationToken: Ct)).Origin);
        Assert.Equal(other, (await map.ExpectMsgAsync<OnlineNotifications.OnlineSnapshot>(cancellationToken: Ct)).Origin);

        var asker = CreateTestProbe();
        feed.Tell(new OnlineNotifications.OnlineSnapshotRequested(other), asker.Ref);
        await map.ExpectMsgAsync<OnlineNotifications.OnlineSnapshotRequested>(cancellationToken: Ct);
        Assert.Equal(asker.Ref, map.LastSender);
    }

    private sealed class Responder : ReceiveActor
    {
        public Responder(Func<object, object> answer) => ReceiveAny(m => Sender.Tell(answer(m)));
    }
}
