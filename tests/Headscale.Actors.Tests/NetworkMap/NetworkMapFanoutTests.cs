using Akka.Actor;
using Headscale.Actors.NetworkMap;
using Headscale.Protocol.Tailcfg;
using static Headscale.Actors.NetworkMap.NetworkMapCommands;

namespace Headscale.Actors.Tests.NetworkMap;

/// <summary>How the host's network map hands one change to many sessions, and when it compiles the policy.</summary>
public sealed class NetworkMapFanoutTests : Akka.TestKit.Xunit.TestKit
{
    private static readonly MapSettings Settings = new("tail.example.com", "{}"u8.ToArray(), new DnsConfig(), DisableLogTail: true);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static PeerView Node(long id, string user = "alice") => new()
    {
        Id = id,
        UserId = user == "alice" ? 1 : 2,
        UserLogin = user,
        GivenName = $"n{id}",
        NodeKey = "nodekey:" + new string('1', 64),
        MachineKey = "mkey:" + new string('2', 64),
        Addresses = [$"100.64.0.{id}/32"],
        Created = DateTimeOffset.UnixEpoch,
    };

    private static readonly Action<object> PublishNowhere = _ => { };

    private IActorRef NewMap(TimeSpan? recompileDelay = null) =>
        Sys.ActorOf(Props.Create(() => new NetworkMapActor(
            Settings, AllowAllPolicy.Instance, TimeProvider.System, TimeSpan.FromMinutes(1), "", null, null, null, PublishNowhere, recompileDelay)));

    private async Task<MapStatistics> StatisticsAsync(IActorRef map) =>
        await map.Ask<MapStatistics>(GetStatistics.Instance, TimeSpan.FromSeconds(10), Ct);

    private static Headscale.Policy.ParsedPolicy Policy(string text)
    {
        var load = Headscale.Policy.PolicyLoader.Load(text);
        Assert.True(load.IsValid, load.ErrorMessage);
        return load.Policy!;
    }

    [Fact]
    public async Task Every_session_that_sees_a_change_the_same_way_gets_the_same_delta_instance()
    {
        var map = NewMap();
        var sessions = new List<Akka.TestKit.TestProbe>();
        for (var id = 1; id <= 4; id++)
        {
            map.Tell(new NodeUpdated(Node(id)));
        }

        for (var id = 1; id <= 3; id++)
        {
            var session = CreateTestProbe();
            map.Tell(new Subscribe(id, session.Ref));
            await session.ExpectMsgAsync<MapResponse>(cancellationToken: Ct);
            sessions.Add(session);
        }

        // Sessions 1 and 2 also see 3 come online (a second session of node 1 has what was pending told
        // first); once they have, node 4's arrival is a change of its own.
        var second = CreateTestProbe();
        map.Tell(new Subscribe(1, second.Ref));
        await second.ExpectMsgAsync<MapResponse>(cancellationToken: Ct);
        foreach (var earlier in sessions.Take(2))
        {
            await earlier.FishForMessageAsync<MapDelta>(d => d.Response.OnlineChange?.ContainsKey(3) == true, cancellationToken: Ct);
        }

        map.Tell(new Subscribe(4, CreateTestProbe().Ref));

        var received = new List<MapDelta>();
        foreach (var probe in sessions.Append(second))
        {
            received.Add(await probe.FishForMessageAsync<MapDelta>(d => d.Response.OnlineChange?.ContainsKey(4) == true, cancellationToken: Ct));
        }

        Assert.All(received, d => Assert.Same(received[0], d));
    }

    [Fact]
    public async Task Hostinfo_and_last_seen_updates_do_not_compile_the_policy_but_a_tag_change_does_at_once()
    {
        var map = NewMap();
        map.Tell(new NodeUpdated(Node(1)));
        map.Tell(new NodeUpdated(Node(2)));
        map.Tell(new PolicyUpdated(Policy("""{"tagOwners": {"tag:web": ["alice@"]}, "acls": [{"action": "accept", "src": ["alice@"], "dst": ["alice@:*"]}]}""")));
        var viewer = CreateTestProbe();
        map.Tell(new Subscribe(1, viewer.Ref));
        Assert.Equal([2L], (await viewer.ExpectMsgAsync<MapResponse>(cancellationToken: Ct)).Peers!.Value.Select(p => p.Id));
        var before = (await StatisticsAsync(map)).PolicyCompiles;

        for (var i = 0; i < 5; i++)
        {
            map.Tell(new NodeUpdated(Node(2) with { Hostinfo = System.Text.Encoding.UTF8.GetBytes($$"""{"Hostname":"h{{i}}"}"""), LastSeen = DateTimeOffset.UnixEpoch.AddMinutes(i) }));
        }

        Assert.Equal(before, (await StatisticsAsync(map)).PolicyCompiles);

        // A tagged node no longer belongs to alice: the policy hides it from her at once.
        map.Tell(new NodeUpdated(Node(2) with { Tags = ["tag:web"] }));
        await viewer.FishForMessageAsync<MapDelta>(d => d.Response.PeersRemoved?.Contains(2) == true, cancellationToken: Ct);
        Assert.Equal(before + 1, (await StatisticsAsync(map)).PolicyCompiles);
    }

    [Fact]
    public async Task A_burst_of_joins_shares_one_compile_and_the_new_nodes_are_then_judged_by_the_policy()
    {
        var map = NewMap(recompileDelay: TimeSpan.FromSeconds(1));
        map.Tell(new NodeUpdated(Node(1)));
        map.Tell(new PolicyUpdated(Policy("""{"acls": [{"action": "accept", "src": ["alice@"], "dst": ["alice@:*"]}]}""")));
        var viewer = CreateTestProbe();
        map.Tell(new Subscribe(1, viewer.Ref));
        await viewer.ExpectMsgAsync<MapResponse>(cancellationToken: Ct);
        var before = (await StatisticsAsync(map)).PolicyCompiles;

        for (var id = 2; id <= 11; id++)
        {
            map.Tell(new NodeUpdated(Node(id, id % 2 == 0 ? "alice" : "bob")));
        }

        var joined = await viewer.FishForMessageAsync<MapDelta>(d => d.Response.PeersChanged is not null, cancellationToken: Ct);
        Assert.Equal([2L, 4L, 6L, 8L, 10L], joined.Response.PeersChanged!.Value.Select(p => p.Id).Order());
        Assert.Equal(before + 1, (await StatisticsAsync(map)).PolicyCompiles);
    }
}
