using System.Collections.Immutable;
using Headscale.Actors.NetworkMap;
using Headscale.Protocol.Tailcfg;

namespace Headscale.Actors.Tests.NetworkMap;

public sealed class MapDeltaMergerTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 8, 0, 0, TimeSpan.Zero);

    private static MapNode Peer(long id, string endpoint = "192.0.2.1:41641") => new()
    {
        Id = id,
        Name = $"n{id}.tail.example.com.",
        User = 1,
        Key = "nodekey:" + new string('1', 64),
        Machine = "mkey:" + new string('2', 64),
        Addresses = [$"100.64.0.{id}/32"],
        Endpoints = [endpoint],
    };

    private static MapResponse Changed(params MapNode[] peers) => new() { ControlTime = T0, PeersChanged = [.. peers] };

    private static MapResponse Removed(params long[] ids) => new() { ControlTime = T0, PeersRemoved = [.. ids] };

    private static MapResponse Online(long id, bool online) => new() { ControlTime = T0, OnlineChange = ImmutableDictionary<long, bool>.Empty.Add(id, online) };

    private static MapResponse Patch(PeerChange patch) => new() { ControlTime = T0, PeersChangedPatch = [patch] };

    [Fact]
    public void A_removal_after_a_change_leaves_only_the_removal()
    {
        var merged = MapDeltaMerger.Merge([Changed(Peer(3)), Patch(new PeerChange(3) { DerpRegion = 2 }), Online(3, true), Removed(3)]);

        Assert.Equal([3L], merged.PeersRemoved!.Value);
        Assert.Null(merged.PeersChanged);
        Assert.Null(merged.PeersChangedPatch);
        Assert.Null(merged.OnlineChange);
    }

    [Fact]
    public void A_change_after_a_removal_brings_the_peer_back_and_is_not_removed()
    {
        var merged = MapDeltaMerger.Merge([Removed(3), Changed(Peer(3, "192.0.2.9:1"))]);

        Assert.Null(merged.PeersRemoved);
        Assert.Equal("192.0.2.9:1", Assert.Single(merged.PeersChanged!.Value).Endpoints.Single());
    }

    [Fact]
    public void The_latest_change_of_a_peer_wins_and_supersedes_earlier_patches_and_online_changes()
    {
        var merged = MapDeltaMerger.Merge([
            Changed(Peer(3, "192.0.2.1:1"), Peer(4)),
            Patch(new PeerChange(3) { Endpoints = ["192.0.2.2:2"] }),
            Online(3, false),
            Changed(Peer(3, "192.0.2.3:3")),
        ]);

        Assert.Equal([3L, 4L], merged.PeersChanged!.Value.Select(p => p.Id));
        Assert.Equal("192.0.2.3:3", merged.PeersChanged.Value[0].Endpoints.Single());
        Assert.Null(merged.PeersChangedPatch);
        Assert.Null(merged.OnlineChange);
    }

    [Fact]
    public void Patches_and_online_changes_after_a_change_are_kept_to_apply_after_it()
    {
        var merged = MapDeltaMerger.Merge([Changed(Peer(3)), Online(3, false), Patch(new PeerChange(3) { LastSeen = T0 })]);

        Assert.Single(merged.PeersChanged!.Value);
        Assert.False(merged.OnlineChange![3]);
        Assert.Equal(T0, Assert.Single(merged.PeersChangedPatch!.Value).LastSeen);
    }

    [Fact]
    public void Patches_merge_field_by_field_and_online_changes_keep_the_latest_value_per_peer()
    {
        var merged = MapDeltaMerger.Merge([
            Patch(new PeerChange(3) { Endpoints = ["192.0.2.1:1"], DerpRegion = 1 }),
            Online(3, false),
            Online(4, true),
            Patch(new PeerChange(3) { DiscoKey = "discokey:" + new string('d', 64) }),
            Patch(new PeerChange(3) { DerpRegion = 7 }),
            Online(3, true),
        ]);

        var patch = Assert.Single(merged.PeersChangedPatch!.Value);
        Assert.Equal(["192.0.2.1:1"], patch.Endpoints!.Value);
        Assert.Equal(7, patch.DerpRegion);
        Assert.NotNull(patch.DiscoKey);
        Assert.True(merged.OnlineChange![3]);
        Assert.True(merged.OnlineChange[4]);
    }

    [Fact]
    public void A_patch_or_online_change_of_a_removed_peer_is_dropped()
    {
        var merged = MapDeltaMerger.Merge([Removed(5), Online(5, true), Patch(new PeerChange(5) { DerpRegion = 3 })]);

        Assert.Equal([5L], merged.PeersRemoved!.Value);
        Assert.Null(merged.OnlineChange);
        Assert.Null(merged.PeersChangedPatch);
    }

    [Fact]
    public void Self_node_filters_dns_derp_and_ssh_take_the_latest_value_and_profiles_merge_by_id()
    {
        var self1 = Peer(1, "192.0.2.1:1");
        var self2 = Peer(1, "192.0.2.2:2");
        var merged = MapDeltaMerger.Merge([
            new MapResponse { ControlTime = T0, Node = self1, PacketFilterRaw = "[1]"u8.ToArray(), UserProfiles = [new UserProfile(1, "alice", "alice")] },
            new MapResponse { ControlTime = T0.AddSeconds(1), DnsConfig = new DnsConfig { Proxied = true }, DerpMapRaw = "{\"a\":1}"u8.ToArray() },
            new MapResponse { ControlTime = T0.AddSeconds(2), Node = self2, PacketFilterRaw = "[2]"u8.ToArray(), SshPolicyRaw = "{}"u8.ToArray(), UserProfiles = [new UserProfile(1, "alice2", "alice2"), new UserProfile(2, "bob", "bob")] },
        ]);

        Assert.Same(self2, merged.Node);
        Assert.Equal("[2]"u8.ToArray(), merged.PacketFilterRaw!.Value.ToArray());
        Assert.True(merged.DnsConfig!.Proxied);
        Assert.NotNull(merged.DerpMapRaw);
        Assert.NotNull(merged.SshPolicyRaw);
        Assert.Equal(T0.AddSeconds(2), merged.ControlTime);
        Assert.Equal(["alice2", "bob"], merged.UserProfiles!.Value.Select(p => p.LoginName));
    }

    [Fact]
    public void Full_maps_keep_alives_and_empty_input_are_refused()
    {
        Assert.Throws<ArgumentException>(() => MapDeltaMerger.Merge([]));
        Assert.Throws<ArgumentException>(() => MapDeltaMerger.Merge([Changed(Peer(2)), new MapResponse { Peers = [Peer(3)] }]));
        Assert.Throws<ArgumentException>(() => MapDeltaMerger.Merge([Changed(Peer(2)), MapResponse.KeepAliveMessage]));
    }

    [Fact]
    public void A_single_delta_is_returned_as_it_is()
    {
        var only = Changed(Peer(2));

        Assert.Same(only, MapDeltaMerger.Merge([only]));
    }
}
