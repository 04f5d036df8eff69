using System.Collections.Immutable;
using System.Text;
using Headscale.Actors.NetworkMap;
using Headscale.Protocol.Tailcfg;

namespace Headscale.Actors.Tests.NetworkMap;

public sealed class NetworkMapStateTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);
    private static readonly MapSettings Settings = new("tail.example.com", """{"Regions":{}}"""u8.ToArray(), new DnsConfig { Proxied = true }, DisableLogTail: true);

    private static PeerView Node(long id, bool online = true, string[]? announced = null, string[]? approved = null, string[]? tags = null) => new()
    {
        Id = id,
        UserId = 1,
        UserLogin = "alice",
        GivenName = $"n{id}",
        NodeKey = "nodekey:" + new string((char)('0' + id % 10), 64),
        MachineKey = "mkey:" + new string('a', 64),
        Addresses = [$"100.64.0.{id}/32", $"fd7a:115c:a1e0::{id}/128"],
        AnnouncedRoutes = [.. announced ?? []],
        ApprovedRoutes = [.. approved ?? []],
        Tags = [.. tags ?? []],
        Online = online,
        Created = Now,
    };

    private static NetworkMapState MapWith(params PeerView[] nodes)
    {
        var map = new NetworkMapState(Settings, AllowAllPolicy.Instance);
        foreach (var node in nodes)
        {
            map.Upsert(node, Now);
        }

        return map;
    }

    /// <summary>Applies one change and flushes it, as the network map actor does when the map is quiet.</summary>
    private static IReadOnlyList<ViewerUpdate> Apply(NetworkMapState map, Action<NetworkMapState> change, DateTimeOffset? at = null)
    {
        change(map);
        return map.Flush(at ?? Now);
    }

    private static MapResponse For(IReadOnlyList<ViewerUpdate> updates, long viewer) =>
        Assert.Single(updates, u => u.ViewerId == viewer).Response;

    [Fact]
    public void First_map_is_complete_and_peers_see_each_other()
    {
        var map = MapWith(Node(1), Node(2));

        var a = map.Subscribe(1, Now);
        var b = map.Subscribe(2, Now);

        Assert.Equal(1, a.Node!.Id);
        Assert.Equal("n1.tail.example.com.", a.Node.Name);
        Assert.Equal([2L], a.Peers!.Value.Select(p => p.Id));
        Assert.Equal([1L], b.Peers!.Value.Select(p => p.Id));
        Assert.NotNull(a.DnsConfig);
        Assert.NotNull(a.DerpMapRaw);
        Assert.NotNull(a.PacketFilterRaw);
        Assert.NotNull(a.SshPolicyRaw);
        Assert.True(a.DisableLogTail);
        Assert.Equal("alice", Assert.Single(a.UserProfiles!.Value).LoginName);
        Assert.Null(a.Node.Online);
        Assert.True(a.Peers.Value[0].Online);
    }

    [Fact]
    public void A_joining_node_reaches_every_subscribed_viewer_once()
    {
        var map = MapWith(Node(1), Node(2));
        map.Subscribe(1, Now);
        map.Subscribe(2, Now);

        var updates = Apply(map, m => m.Upsert(Node(3), Now));

        Assert.Equal([1L, 2L], updates.Select(u => u.ViewerId).Order());
        Assert.Equal(3, Assert.Single(For(updates, 1).PeersChanged!.Value).Id);
        Assert.Equal(3, Assert.Single(For(updates, 2).PeersChanged!.Value).Id);
    }

    [Fact]
    public void Viewers_told_the_same_thing_share_one_message_and_each_changed_peer_is_rendered_once()
    {
        var map = MapWith(Node(1), Node(2), Node(3), Node(4));
        foreach (var id in new long[] { 1, 2, 3, 4 })
        {
            map.Subscribe(id, Now);
        }

        var joined = Apply(map, m => m.Upsert(Node(5), Now));
        var offline = Apply(map, m => m.SetOnline(2, online: false, Now));
        var moved = Apply(map, m => m.UpdateEndpoints(3, ["192.0.2.3:41641"], null, 0));

        Assert.Equal(4, joined.Count);
        Assert.All(joined, u => Assert.Same(joined[0].Response, u.Response));
        Assert.Equal([1L, 3L, 4L], offline.Select(u => u.ViewerId).Order());
        Assert.All(offline, u => Assert.Same(offline[0].Response, u.Response));
        Assert.Equal(3, moved.Count);
        Assert.All(moved, u => Assert.Same(moved[0].Response, u.Response));
    }

    [Fact]
    public void Changes_before_one_flush_reach_each_viewer_as_one_message_and_a_later_subscriber_only_what_followed_it()
    {
        var map = MapWith(Node(1), Node(2), Node(3));
        map.Subscribe(1, Now);
        map.Subscribe(2, Now);

        map.Upsert(Node(4), Now);
        map.SetOnline(3, online: false, Now);
        map.UpdateEndpoints(2, ["192.0.2.2:41641"], null, 0);
        // Viewer 4 subscribes mid-burst: its full map has node 4 itself and 3 offline already.
        map.Subscribe(4, Now);
        map.UpdateEndpoints(2, ["192.0.2.2:41642"], null, 0);
        var updates = map.Flush(Now);

        var one = For(updates, 1);
        Assert.Equal([4L], one.PeersChanged!.Value.Select(p => p.Id));
        Assert.Equal([3L], one.OnlineChange!.Keys);
        Assert.Equal([2L, 3L], one.PeersChangedPatch!.Value.Select(p => p.NodeId));
        Assert.Equal(["192.0.2.2:41642"], one.PeersChangedPatch.Value.Single(p => p.NodeId == 2).Endpoints!.Value);
        Assert.Equal(Now, one.PeersChangedPatch.Value.Single(p => p.NodeId == 3).LastSeen);
        // Viewer 2 is told the same about 3 and 4 but nothing about itself.
        var two = For(updates, 2);
        Assert.Equal([4L], two.PeersChanged!.Value.Select(p => p.Id));
        Assert.Equal([3L], two.PeersChangedPatch!.Value.Select(p => p.NodeId));
        var four = For(updates, 4);
        Assert.Null(four.PeersChanged);
        Assert.Null(four.OnlineChange);
        Assert.Equal(["192.0.2.2:41642"], Assert.Single(four.PeersChangedPatch!.Value).Endpoints!.Value);
        Assert.Empty(map.Flush(Now));
    }

    [Fact]
    public void Viewers_told_different_things_get_their_own_messages_and_hidden_peers_reach_nobody_else()
    {
        // Node 3 only sees node 1; everyone else sees everyone.
        var policy = new SeesPolicy((viewer, peer) => viewer.Id != 3 || peer.Id == 1);
        var map = new NetworkMapState(Settings, policy);
        foreach (var node in new[] { Node(1), Node(2), Node(3), Node(4) })
        {
            map.Upsert(node, Now);
        }

        foreach (var id in new long[] { 1, 2, 3, 4 })
        {
            map.Subscribe(id, Now);
        }

        // Node 1 changes: viewers 2, 3 and 4 all see it the same way. Node 4 changes: viewer 3 is not told.
        var one = Apply(map, m => m.Upsert(Node(1) with { Hostinfo = "{\"Hostname\":\"one\"}"u8.ToArray() }, Now));
        var four = Apply(map, m => m.Upsert(Node(4) with { Hostinfo = "{\"Hostname\":\"four\"}"u8.ToArray() }, Now));

        var toViewers = one.Where(u => u.ViewerId != 1).ToList();
        Assert.Equal([2L, 3L, 4L], toViewers.Select(u => u.ViewerId).Order());
        Assert.All(toViewers, u => Assert.Same(toViewers[0].Response, u.Response));
        var self = For(one, 1);
        Assert.NotSame(toViewers[0].Response, self);
        Assert.NotNull(self.Node);
        Assert.DoesNotContain(four, u => u.ViewerId == 3);
        Assert.Same(For(four, 1), For(four, 2));
    }

    [Fact]
    public void A_policy_change_sends_viewers_with_the_same_difference_one_shared_message()
    {
        var map = MapWith(Node(1), Node(2), Node(3));
        foreach (var id in new long[] { 1, 2, 3 })
        {
            map.Subscribe(id, Now);
        }

        // Node 3 disappears for everyone else; node 3 itself loses both peers.
        var updates = map.SetPolicy(new SeesPolicy((viewer, peer) => viewer.Id != 3 && peer.Id != 3), Now);

        Assert.Same(For(updates, 1), For(updates, 2));
        Assert.Equal([3L], For(updates, 1).PeersRemoved!.Value);
        Assert.Equal([1L, 2L], For(updates, 3).PeersRemoved!.Value);
    }

    [Fact]
    public void Full_maps_share_each_peer_entry_until_that_peer_changes_or_expires()
    {
        var map = MapWith(Node(1), Node(2), Node(3) with { KeyExpiry = Now.AddMinutes(1) });

        var a = map.Subscribe(1, Now);
        var b = map.Subscribe(2, Now);
        Assert.Same(a.Peers!.Value.Single(p => p.Id == 3), b.Peers!.Value.Single(p => p.Id == 3));

        map.UpdateEndpoints(3, ["192.0.2.3:41641"], null, 0);
        var later = map.Subscribe(1, Now.AddMinutes(2));

        var entry = later.Peers!.Value.Single(p => p.Id == 3);
        Assert.Equal(["192.0.2.3:41641"], entry.Endpoints);
        Assert.True(entry.Expired);
        Assert.False(a.Peers.Value.Single(p => p.Id == 3).Expired);
    }

    [Fact]
    public void A_node_that_joins_after_a_deletion_is_tracked_on_its_own_and_the_deleted_one_is_gone()
    {
        var map = MapWith(Node(1), Node(2), Node(3));
        map.Subscribe(1, Now);

        Assert.Equal([3L], For(Apply(map, m => m.Remove(3)), 1).PeersRemoved!.Value);
        Assert.Equal(4, Assert.Single(For(Apply(map, m => m.Upsert(Node(4), Now)), 1).PeersChanged!.Value).Id);
        Assert.Empty(Apply(map, m => m.SetOnline(3, online: false, Now)));

        Assert.Equal([4L], For(Apply(map, m => m.Remove(4)), 1).PeersRemoved!.Value);
        Assert.Equal([2L], For(Apply(map, m => m.SetOnline(2, online: false, Now)), 1).OnlineChange!.Keys);
    }

    private sealed class SeesPolicy(Func<PeerView, PeerView, bool> canSee) : ITailnetPolicy
    {
        public bool CanSee(PeerView viewer, PeerView peer) => canSee(viewer, peer);

        public ReadOnlyMemory<byte> PacketFilterFor(PeerView node) => AllowAllPolicy.Instance.PacketFilterFor(node);

        public ReadOnlyMemory<byte> SshPolicyFor(PeerView node) => AllowAllPolicy.Instance.SshPolicyFor(node);
    }

    [Fact]
    public void Disconnect_is_an_online_change_with_last_seen_and_delete_is_peers_removed()
    {
        var map = MapWith(Node(1), Node(2), Node(3));
        map.Subscribe(1, Now);

        var offline = Apply(map, m => m.SetOnline(3, online: false, Now));
        var deleted = Apply(map, m => m.Remove(3));

        var change = For(offline, 1);
        Assert.False(change.OnlineChange![3]);
        Assert.Equal(Now, Assert.Single(change.PeersChangedPatch!.Value).LastSeen);
        Assert.Equal([3L], For(deleted, 1).PeersRemoved!.Value);
        Assert.Empty(Apply(map, m => m.SetOnline(3, online: true, Now)));
    }

    [Fact]
    public void Endpoint_updates_are_patches_and_unchanged_ones_send_nothing()
    {
        var map = MapWith(Node(1), Node(2));
        map.Subscribe(1, Now);

        var first = Apply(map, m => m.UpdateEndpoints(2, ["192.0.2.1:41641"], "discokey:" + new string('d', 64), 999));
        var again = Apply(map, m => m.UpdateEndpoints(2, ["192.0.2.1:41641"], "discokey:" + new string('d', 64), 999));

        var patch = Assert.Single(For(first, 1).PeersChangedPatch!.Value);
        Assert.Equal(["192.0.2.1:41641"], patch.Endpoints!.Value);
        Assert.Equal(999, patch.DerpRegion);
        Assert.Null(For(first, 1).PeersChanged);
        Assert.Empty(again);
    }

    [Fact]
    public void Approving_a_route_changes_allowed_ips_seen_by_peers()
    {
        var map = MapWith(Node(1), Node(2, announced: ["10.0.0.0/24"]));
        var before = map.Subscribe(1, Now);
        Assert.Null(before.Peers!.Value.Single().AllowedIPs);

        var updates = Apply(map, m => m.Upsert(Node(2, announced: ["10.0.0.0/24"], approved: ["10.0.0.0/24"]), Now));

        var peer = Assert.Single(For(updates, 1).PeersChanged!.Value);
        Assert.Equal(["100.64.0.2/32", "fd7a:115c:a1e0::2/128", "10.0.0.0/24"], peer.AllowedIPs!.Value);
        Assert.Equal(["10.0.0.0/24"], peer.PrimaryRoutes);
    }

    [Fact]
    public void Primary_route_moves_to_the_next_router_when_the_primary_goes_offline_and_does_not_flap_back()
    {
        string[] route = ["10.0.0.0/24"];
        var map = MapWith(Node(1), Node(2, announced: route, approved: route), Node(3, announced: route, approved: route));
        var first = map.Subscribe(1, Now);
        Assert.Equal(["10.0.0.0/24"], first.Peers!.Value.Single(p => p.Id == 2).PrimaryRoutes);
        Assert.Empty(first.Peers!.Value.Single(p => p.Id == 3).PrimaryRoutes);

        var failover = Apply(map, m => m.SetOnline(2, online: false, Now));
        var changed = failover.Where(u => u.ViewerId == 1).SelectMany(u => u.Response.PeersChanged ?? []).ToList();
        Assert.Equal(["10.0.0.0/24"], changed.Single(p => p.Id == 3).PrimaryRoutes);
        Assert.Empty(changed.Single(p => p.Id == 2).PrimaryRoutes);

        var back = Apply(map, m => m.SetOnline(2, online: true, Now));
        Assert.DoesNotContain(back.SelectMany(u => u.Response.PeersChanged ?? []), p => p.Id == 3);
    }

    [Fact]
    public void Exit_routes_are_offered_by_every_exit_node_without_election()
    {
        string[] exit = ["0.0.0.0/0", "::/0"];
        var map = MapWith(Node(1), Node(2, announced: exit, approved: exit));

        var peer = map.Subscribe(1, Now).Peers!.Value.Single();

        Assert.Contains("0.0.0.0/0", peer.AllowedIPs!.Value);
        Assert.Contains("::/0", peer.AllowedIPs.Value);
        Assert.Empty(peer.PrimaryRoutes);
    }

    private sealed class HideTwoFromOne : ITailnetPolicy
    {
        public bool CanSee(PeerView viewer, PeerView peer) => !(viewer.Id == 1 && peer.Id == 2) && !(viewer.Id == 2 && peer.Id == 1);

        public ReadOnlyMemory<byte> PacketFilterFor(PeerView node) => Encoding.UTF8.GetBytes($$"""[{"SrcIPs":["100.64.0.{{(node.Id == 1 ? 3 : 1)}}"]}]""");

        public ReadOnlyMemory<byte> SshPolicyFor(PeerView node) => """{"rules":[]}"""u8.ToArray();
    }

    [Fact]
    public void A_policy_that_hides_a_peer_removes_it_and_sends_only_the_changed_filter()
    {
        var map = MapWith(Node(1), Node(2), Node(3));
        map.Subscribe(1, Now);
        map.Subscribe(3, Now);

        var updates = map.SetPolicy(new HideTwoFromOne(), Now);

        var forOne = For(updates, 1);
        Assert.Equal([2L], forOne.PeersRemoved!.Value);
        Assert.Contains("100.64.0.3", Encoding.UTF8.GetString(forOne.PacketFilterRaw!.Value.Span));
        Assert.Null(forOne.SshPolicyRaw);
        var forThree = For(updates, 3);
        Assert.Null(forThree.PeersRemoved);
        Assert.NotNull(forThree.PacketFilterRaw);

        Assert.Empty(map.SetPolicy(new HideTwoFromOne(), Now));
    }

    [Fact]
    public void Expired_nodes_are_shown_expired_and_unauthorized()
    {
        var map = MapWith(Node(1), Node(2) with { KeyExpiry = Now.AddMinutes(-1) });

        var peer = map.Subscribe(1, Now).Peers!.Value.Single();

        Assert.True(peer.Expired);
        Assert.False(peer.MachineAuthorized);
    }

    [Fact]
    public void A_key_expiring_while_connected_reaches_the_node_and_its_peers_once()
    {
        var map = MapWith(Node(1) with { KeyExpiry = Now.AddMinutes(5) }, Node(2));
        map.Subscribe(1, Now);
        map.Subscribe(2, Now);
        Assert.Equal(Now.AddMinutes(5), map.NextExpiry);

        Assert.Empty(Apply(map, m => m.ExpireDue(Now.AddMinutes(4)), Now.AddMinutes(4)));
        var updates = Apply(map, m => m.ExpireDue(Now.AddMinutes(5)), Now.AddMinutes(5));

        var self = For(updates, 1).Node!;
        Assert.True(self.Expired);
        Assert.False(self.MachineAuthorized);
        var peer = Assert.Single(For(updates, 2).PeersChanged!.Value);
        Assert.Equal(1, peer.Id);
        Assert.True(peer.Expired);
        Assert.Null(map.NextExpiry);
        Assert.Empty(Apply(map, m => m.ExpireDue(Now.AddMinutes(6)), Now.AddMinutes(6)));
    }

    [Fact]
    public void A_changed_or_deleted_node_no_longer_expires_at_its_old_time()
    {
        var map = MapWith(Node(1) with { KeyExpiry = Now.AddMinutes(5) }, Node(2) with { KeyExpiry = Now.AddMinutes(10) });
        map.Upsert(Node(1) with { KeyExpiry = Now.AddHours(1) }, Now);
        Assert.Equal(Now.AddMinutes(10), map.NextExpiry);

        map.Remove(2);
        Assert.Equal(Now.AddHours(1), map.NextExpiry);

        map.Upsert(Node(1), Now);
        Assert.Null(map.NextExpiry);
        // Already expired when it arrives: shown expired in the update itself, nothing left to wake for.
        map.Upsert(Node(3) with { KeyExpiry = Now.AddMinutes(-1) }, Now);
        Assert.Null(map.NextExpiry);
    }

    [Fact]
    public void Subscribing_an_unknown_node_is_an_error() =>
        Assert.Throws<InvalidOperationException>(() => MapWith(Node(1)).Subscribe(9, Now));
}
