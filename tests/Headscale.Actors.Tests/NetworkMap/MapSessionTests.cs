using System.Buffers;
using System.Text.Json;
using System.Threading.Channels;
using Akka.Actor;
using Headscale.Actors.NetworkMap;
using Headscale.Protocol.Tailcfg;
using static Headscale.Actors.NetworkMap.NetworkMapCommands;

namespace Headscale.Actors.Tests.NetworkMap;

public sealed class MapSessionTests() : Akka.TestKit.Xunit.TestKit(Headscale.Actors.Dispatch.CompactMailboxes.Hocon)
{
    private static readonly MapSettings Settings = new("tail.example.com", """{"Regions":{}}"""u8.ToArray(), new DnsConfig { Proxied = true }, DisableLogTail: true);
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

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
    };

    private IActorRef NewMap(TimeSpan? grace = null, TimeSpan? flushWindow = null) =>
        Sys.ActorOf(Props.Create(() => new NetworkMapActor(
            Settings, AllowAllPolicy.Instance, TimeProvider.System, grace ?? TimeSpan.FromMilliseconds(200), "", null, null, TimeSpan.FromMilliseconds(300), null, null, flushWindow)));

    private (IActorRef Session, ChannelReader<MapFrame> Frames) Connect(IActorRef map, long nodeId, bool zstd = true, int capacity = 64, TimeSpan? keepAlive = null)
    {
        var channel = Channel.CreateBounded<MapFrame>(new BoundedChannelOptions(capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        var interval = keepAlive ?? TimeSpan.FromMinutes(5);
        var session = Sys.ActorOf(MapSessionActor.Props(nodeId, map, channel.Writer, zstd, () => interval));
        return (session, channel.Reader);
    }

    private static async Task<JsonElement> NextAsync(ChannelReader<MapFrame> frames, bool zstd = true)
    {
        using var cts = new CancellationTokenSource(Wait);
        var frame = await frames.ReadAsync(cts.Token);
        var sequence = new ReadOnlySequence<byte>(frame.ToArray());
        Assert.True(MapFrameCodec.TryReadFrame(ref sequence, zstd, out var json));
        return JsonDocument.Parse(json).RootElement;
    }

    /// <summary>Reads frames until one satisfies the condition (keep-alives and other deltas may come first).</summary>
    private static async Task<JsonElement> NextMatchingAsync(ChannelReader<MapFrame> frames, Func<JsonElement, bool> condition)
    {
        while (true)
        {
            var message = await NextAsync(frames);
            if (condition(message))
            {
                return message;
            }
        }
    }

    [Fact]
    public async Task A_session_gets_the_full_map_then_a_joining_peer_then_its_disconnect()
    {
        var map = NewMap();
        map.Tell(new NodeUpdated(Node(1)));
        map.Tell(new NodeUpdated(Node(2)));
        var (_, a) = Connect(map, 1);

        var first = await NextAsync(a);
        Assert.Equal(1, first.GetProperty("Node").GetProperty("ID").GetInt64());
        Assert.Equal(2, first.GetProperty("Peers")[0].GetProperty("ID").GetInt64());

        map.Tell(new NodeUpdated(Node(3)));
        var joined = await NextMatchingAsync(a, m => m.TryGetProperty("PeersChanged", out _));
        Assert.Equal(3, joined.GetProperty("PeersChanged")[0].GetProperty("ID").GetInt64());

        var (c, cFrames) = Connect(map, 3);
        await NextAsync(cFrames);
        var online = await NextMatchingAsync(a, m => m.TryGetProperty("OnlineChange", out _));
        Assert.True(online.GetProperty("OnlineChange").GetProperty("3").GetBoolean());

        await c.GracefulStop(Wait);
        var offline = await NextMatchingAsync(a, m => m.TryGetProperty("OnlineChange", out var o) && !o.GetProperty("3").GetBoolean());
        Assert.Equal(3, offline.GetProperty("PeersChangedPatch")[0].GetProperty("NodeID").GetInt64());
    }

    [Fact]
    public async Task Plain_json_stream_when_the_client_does_not_ask_for_zstd()
    {
        var map = NewMap();
        map.Tell(new NodeUpdated(Node(1)));
        var (_, frames) = Connect(map, 1, zstd: false);

        var first = await NextAsync(frames, zstd: false);

        Assert.Equal("n1.tail.example.com.", first.GetProperty("Node").GetProperty("Name").GetString());
    }

    [Fact]
    public async Task Full_maps_of_two_sessions_list_every_peer_in_order_and_share_the_compressed_peer_chunks()
    {
        const bool zstd = true;
        var map = NewMap();
        for (var id = 1; id <= 201; id++)
        {
            map.Tell(new NodeUpdated(Node(id)));
        }

        // Viewers 200 and 201 are in group 3 (ids 192–255), eighth 25 (ids 200–207): groups 0–2 (ids 1–191) and
        // eighth 24 (ids 192–199) look the same to both.
        var (_, a) = Connect(map, 200, zstd);
        var first = await NextAsync(a, zstd);
        var hitsBefore = PeerChunkCache.Shared.Hits;
        var (_, b) = Connect(map, 201, zstd);
        var second = await NextAsync(b, zstd);

        long[] Ids(JsonElement m) => [.. m.GetProperty("Peers").EnumerateArray().Select(p => p.GetProperty("ID").GetInt64())];
        Assert.Equal(Enumerable.Range(1, 201).Where(id => id != 200).Select(id => (long)id), Ids(first));
        Assert.Equal(Enumerable.Range(1, 200).Select(id => (long)id), Ids(second));
        Assert.Equal(201, second.GetProperty("Node").GetProperty("ID").GetInt64());
        // Other tests share the cache, so count at least this session's four.
        Assert.True(PeerChunkCache.Shared.Hits - hitsBefore >= 4, $"{PeerChunkCache.Shared.Hits - hitsBefore} chunks shared");
    }

    [Fact]
    public async Task A_busy_session_gets_no_keep_alive_until_it_has_been_quiet_for_the_interval()
    {
        var map = NewMap(flushWindow: TimeSpan.Zero);
        map.Tell(new NodeUpdated(Node(1)));
        map.Tell(new NodeUpdated(Node(2)));
        // Long enough that a loaded test machine does not leave a gap of a whole interval between two changes.
        var interval = TimeSpan.FromMilliseconds(1500);
        var (_, frames) = Connect(map, 1, keepAlive: interval);
        await NextAsync(frames);

        // Changes keep coming for more than twice the interval: each frame postpones the keep-alive.
        var busyUntil = DateTime.UtcNow + (interval * 2.5);
        var round = 0;
        while (DateTime.UtcNow < busyUntil)
        {
            round++;
            map.Tell(new NodeUpdated(Node(2) with { GivenName = $"n2-{round}" }));
            var delta = await NextAsync(frames);
            Assert.False(delta.TryGetProperty("KeepAlive", out _), $"keep-alive in round {round} while changes kept coming");
            await Task.Delay(interval / 10, TestContext.Current.CancellationToken);
        }

        var lastChange = DateTime.UtcNow;
        var keepAlive = await NextAsync(frames);

        Assert.True(keepAlive.GetProperty("KeepAlive").GetBoolean());
        Assert.True(DateTime.UtcNow - lastChange >= interval * 0.8, $"keep-alive {(DateTime.UtcNow - lastChange).TotalMilliseconds} ms after the last change");
    }

    [Fact]
    public async Task An_idle_session_receives_keep_alives()
    {
        var map = NewMap();
        map.Tell(new NodeUpdated(Node(1)));
        var (_, frames) = Connect(map, 1, keepAlive: TimeSpan.FromMilliseconds(100));

        await NextAsync(frames);
        var keepAlive = await NextAsync(frames);

        Assert.True(keepAlive.GetProperty("KeepAlive").GetBoolean());
        Assert.False(keepAlive.TryGetProperty("Node", out _));
    }

    [Fact]
    public async Task A_node_that_does_not_arrive_within_the_wait_ends_the_stream_as_missing()
    {
        var map = NewMap();
        var (_, frames) = Connect(map, 42);

        var closed = await Assert.ThrowsAsync<ChannelClosedException>(async () => await frames.ReadAsync(new CancellationTokenSource(Wait).Token));

        Assert.True(Assert.IsType<MapSessionEndedException>(closed.InnerException).NodeMissing);
    }

    [Fact]
    public async Task Deleting_the_node_ends_its_own_stream()
    {
        var map = NewMap();
        map.Tell(new NodeUpdated(Node(1)));
        var (_, frames) = Connect(map, 1);
        await NextAsync(frames);

        map.Tell(new NodeRemoved(1));

        var closed = await Assert.ThrowsAsync<ChannelClosedException>(async () =>
        {
            using var cts = new CancellationTokenSource(Wait);
            while (true)
            {
                await frames.ReadAsync(cts.Token);
            }
        });
        Assert.True(Assert.IsType<MapSessionEndedException>(closed.InnerException).NodeMissing);
    }

    [Fact]
    public async Task A_client_that_falls_behind_skips_the_queued_deltas_and_gets_a_full_map_when_it_reads_again()
    {
        // No flush window, and each change flushed before the next arrives: every change is a frame of its own, so the small channel overflows.
        var map = NewMap(flushWindow: TimeSpan.Zero);
        map.Tell(new NodeUpdated(Node(1)));
        var (session, frames) = Connect(map, 1, capacity: 2);
        Watch(session);
        // Only once the session is subscribed does each change become a frame of its own.
        await AwaitAssertAsync(async () =>
            Assert.Equal(1, (await map.Ask<MapStatistics>(GetStatistics.Instance, Wait, TestContext.Current.CancellationToken)).Sessions),
            Wait, cancellationToken: TestContext.Current.CancellationToken);

        for (var id = 2; id < 10; id++)
        {
            map.Tell(new NodeUpdated(Node(id)));
            // The first answer follows the change, the second the flush the change queued behind it.
            await map.Ask<MapStatistics>(GetStatistics.Instance, Wait, TestContext.Current.CancellationToken);
            await map.Ask<MapStatistics>(GetStatistics.Instance, Wait, TestContext.Current.CancellationToken);
        }

        // Nobody reads until the session has been handed every delta: the map has applied the changes once it
        // answers, and the session has processed what the map sent it once it answers after that.
        await map.Ask<MapStatistics>(GetStatistics.Instance, Wait, TestContext.Current.CancellationToken);
        await session.Ask<ActorIdentity>(new Identify(1), Wait, TestContext.Current.CancellationToken);

        // The channel holds the full map and one delta; the other changes were not queued behind them.
        var full = await NextAsync(frames);
        Assert.Equal(1, full.GetProperty("Node").GetProperty("ID").GetInt64());
        Assert.False(full.TryGetProperty("Peers", out var none) && none.GetArrayLength() > 0);
        var delta = await NextAsync(frames);
        Assert.True(delta.TryGetProperty("PeersChanged", out _));

        // Reading made room: the session asks for a fresh full map, which has every node it skipped.
        var resync = await NextMatchingAsync(frames, m => m.TryGetProperty("Peers", out _));
        Assert.Equal(8, resync.GetProperty("Peers").GetArrayLength());
        ExpectNoMsg(TimeSpan.FromMilliseconds(100), TestContext.Current.CancellationToken);
        var stats = await map.Ask<MapStatistics>(GetStatistics.Instance, Wait, TestContext.Current.CancellationToken);
        Assert.Equal(1, stats.Sessions);
    }

    private static MapResponse OnlineChange(long id, bool online) =>
        new() { ControlTime = DateTimeOffset.UnixEpoch, OnlineChange = System.Collections.Immutable.ImmutableDictionary<long, bool>.Empty.Add(id, online) };

    private static MapNode Rendered(long id) => new()
    {
        Id = id,
        Name = $"n{id}.tail.example.com.",
        User = 1,
        Key = "nodekey:" + new string('1', 64),
        Machine = "mkey:" + new string('2', 64),
        Addresses = [$"100.64.0.{id}/32"],
    };

    /// <summary>A session on a probe standing in for the map, past its full map.</summary>
    private async Task<(IActorRef Session, ChannelReader<MapFrame> Frames)> SubscribedSessionAsync(Akka.TestKit.TestProbe map)
    {
        var (session, frames) = Connect(map.Ref, 1);
        await map.ExpectMsgAsync<Subscribe>(cancellationToken: TestContext.Current.CancellationToken);
        session.Tell(new MapResponse { ControlTime = DateTimeOffset.UnixEpoch, Node = Rendered(1) });
        Assert.True((await NextAsync(frames)).TryGetProperty("Node", out _));
        return (session, frames);
    }

    [Fact]
    public async Task A_burst_of_changes_reaches_a_session_as_the_first_change_then_one_frame_for_the_rest()
    {
        var map = NewMap(flushWindow: TimeSpan.FromSeconds(1));
        map.Tell(new NodeUpdated(Node(1)));
        var (session, frames) = Connect(map, 1);
        await NextAsync(frames);

        // After a quiet spell the first change goes out at once and opens the window.
        map.Tell(new NodeUpdated(Node(2)));
        var first = await NextAsync(frames);
        Assert.Equal([2L], first.GetProperty("PeersChanged").EnumerateArray().Select(p => p.GetProperty("ID").GetInt64()));

        for (var id = 3; id <= 51; id++)
        {
            map.Tell(new NodeUpdated(Node(id)));
        }

        var rest = await NextAsync(frames);
        Assert.Equal(Enumerable.Range(3, 49).Select(i => (long)i), rest.GetProperty("PeersChanged").EnumerateArray().Select(p => p.GetProperty("ID").GetInt64()));
        // The map has flushed and the session has written everything it was sent before they answer: one frame, nothing else.
        await map.Ask<MapStatistics>(GetStatistics.Instance, Wait, TestContext.Current.CancellationToken);
        await session.Ask<ActorIdentity>(new Identify(1), Wait, TestContext.Current.CancellationToken);
        Assert.False(frames.TryRead(out _));
    }

    [Fact]
    public async Task Within_a_window_only_the_latest_state_of_each_peer_is_sent()
    {
        var map = NewMap(flushWindow: TimeSpan.FromSeconds(1));
        foreach (var id in new long[] { 1, 7, 8, 9 })
        {
            map.Tell(new NodeUpdated(Node(id)));
        }

        var (_, frames) = Connect(map, 1);
        await NextAsync(frames);
        map.Tell(new EndpointsUpdated(9, ["192.0.2.9:1"], null, 0));
        Assert.True((await NextAsync(frames)).TryGetProperty("PeersChangedPatch", out _));

        // Within the window that patch opened: 7 changes and is deleted, 8 moves twice.
        map.Tell(new NodeUpdated(Node(7) with { Hostinfo = "{\"Hostname\":\"seven\"}"u8.ToArray() }));
        map.Tell(new NodeRemoved(7));
        map.Tell(new EndpointsUpdated(8, ["192.0.2.8:1"], null, 0));
        map.Tell(new EndpointsUpdated(8, ["192.0.2.8:2"], null, 0));

        var batch = await NextAsync(frames);
        Assert.Equal([7L], batch.GetProperty("PeersRemoved").EnumerateArray().Select(e => e.GetInt64()));
        Assert.False(batch.TryGetProperty("PeersChanged", out _));
        var patch = Assert.Single(batch.GetProperty("PeersChangedPatch").EnumerateArray());
        Assert.Equal(8, patch.GetProperty("NodeID").GetInt64());
        Assert.Equal(["192.0.2.8:2"], patch.GetProperty("Endpoints").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task Every_delta_is_a_frame_of_its_own_and_shared_deltas_are_encoded_once()
    {
        var map = CreateTestProbe();
        var (session, frames) = await SubscribedSessionAsync(map);
        var shared = new MapDelta(OnlineChange(2, true));
        var encoded = shared.Frame(zstd: true);

        session.Tell(shared);
        session.Tell(new MapDelta(OnlineChange(3, true)));

        using var cts = new CancellationTokenSource(Wait);
        Assert.Same(encoded, (await frames.ReadAsync(cts.Token)).ToArray());
        Assert.Equal(["3"], (await NextAsync(frames)).GetProperty("OnlineChange").EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task Deltas_before_the_full_map_of_a_resync_are_dropped()
    {
        var map = CreateTestProbe();
        var (session, frames) = Connect(map.Ref, 1);
        await map.ExpectMsgAsync<Subscribe>(cancellationToken: TestContext.Current.CancellationToken);

        // Sent by the map before it handled the subscription: the full map that follows already holds it.
        session.Tell(new MapDelta(OnlineChange(2, true)));
        session.Tell(new MapResponse { ControlTime = DateTimeOffset.UnixEpoch, Node = Rendered(1) });
        session.Tell(new MapDelta(OnlineChange(3, true)));

        Assert.True((await NextAsync(frames)).TryGetProperty("Node", out _));
        Assert.Equal(["3"], (await NextAsync(frames)).GetProperty("OnlineChange").EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task A_policy_is_recompiled_as_nodes_join_so_new_nodes_are_judged_by_it()
    {
        var map = NewMap();
        var load = Headscale.Policy.PolicyLoader.Load("""{"acls": [{"action": "accept", "src": ["alice@"], "dst": ["alice@:*"]}]}""");
        Assert.True(load.IsValid, load.ErrorMessage);
        map.Tell(new NodeUpdated(Node(1)));
        map.Tell(new NodeUpdated(Node(2) with { UserId = 2, UserLogin = "bob" }));
        map.Tell(new PolicyUpdated(load.Policy));
        var (_, alice) = Connect(map, 1);

        var first = await NextAsync(alice);
        Assert.False(first.TryGetProperty("Peers", out _));

        map.Tell(new NodeUpdated(Node(3)));
        map.Tell(new NodeUpdated(Node(4) with { UserId = 2, UserLogin = "bob" }));
        var joined = await NextMatchingAsync(alice, m => m.TryGetProperty("PeersChanged", out _));
        Assert.Equal([3L], joined.GetProperty("PeersChanged").EnumerateArray().Select(p => p.GetProperty("ID").GetInt64()));

        map.Tell(new PolicyUpdated(null));
        var opened = await NextMatchingAsync(alice, m => m.TryGetProperty("PeersChanged", out var c) && c.GetArrayLength() == 2);
        Assert.Equal([2L, 4L], opened.GetProperty("PeersChanged").EnumerateArray().Select(p => p.GetProperty("ID").GetInt64()).Order());
    }

    /// <summary>Lets everyone see everyone, but fails on node 99: a stand-in for a bug that throws inside the map.</summary>
    private sealed class FailsOnNode99 : ITailnetPolicy
    {
        public bool CanSee(PeerView viewer, PeerView peer) =>
            peer.Id != 99 ? true : throw new InvalidOperationException("the map fails on node 99");

        public ReadOnlyMemory<byte> PacketFilterFor(PeerView node) => AllowAllPolicy.Instance.PacketFilterFor(node);

        public ReadOnlyMemory<byte> SshPolicyFor(PeerView node) => AllowAllPolicy.Instance.SshPolicyFor(node);
    }

    [Fact]
    public async Task After_the_map_fails_and_restarts_empty_its_sessions_subscribe_again_and_get_the_reloaded_tailnet()
    {
        var map = Sys.ActorOf(Props.Create(() => new NetworkMapActor(
            Settings, new FailsOnNode99(), TimeProvider.System, TimeSpan.FromMinutes(1), "", null, null, TimeSpan.FromSeconds(10), null, null, TimeSpan.Zero)));
        var restarts = CreateTestProbe();
        Sys.EventStream.Subscribe(restarts.Ref, typeof(NetworkMapRestarted));
        map.Tell(new NodeUpdated(Node(1)));
        map.Tell(new NodeUpdated(Node(2)));
        var (_, frames) = Connect(map, 1);
        Assert.Equal([2L], (await NextAsync(frames)).GetProperty("Peers").EnumerateArray().Select(p => p.GetProperty("ID").GetInt64()));

        map.Tell(new NodeUpdated(Node(99)));
        Assert.Equal(map, (await restarts.ExpectMsgAsync<NetworkMapRestarted>(cancellationToken: TestContext.Current.CancellationToken)).Map);

        // What the feed sends a restarted map: the whole tailnet again (here with node 3 new since).
        map.Tell(new NodesLoaded([Node(1), Node(2), Node(3)]));
        var reloaded = await NextMatchingAsync(frames, m => m.TryGetProperty("Peers", out _));
        Assert.Equal([2L, 3L], reloaded.GetProperty("Peers").EnumerateArray().Select(p => p.GetProperty("ID").GetInt64()));

        map.Tell(new NodeUpdated(Node(4)));
        var joined = await NextMatchingAsync(frames, m => m.TryGetProperty("PeersChanged", out _));
        Assert.Equal([4L], joined.GetProperty("PeersChanged").EnumerateArray().Select(p => p.GetProperty("ID").GetInt64()));
    }
}
