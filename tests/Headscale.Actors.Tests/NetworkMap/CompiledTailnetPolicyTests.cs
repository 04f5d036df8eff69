using System.Text;
using System.Text.Json;
using Headscale.Actors.NetworkMap;
using Headscale.Policy;
using Headscale.Protocol.Tailcfg;

namespace Headscale.Actors.Tests.NetworkMap;

public sealed class CompiledTailnetPolicyTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    private static PeerView Node(long id, long user, string login, params string[] tags) => new()
    {
        Id = id,
        UserId = user,
        UserLogin = login,
        GivenName = $"n{id}",
        NodeKey = "nodekey:" + new string((char)('0' + id), 64),
        MachineKey = "mkey:" + new string('a', 64),
        Addresses = [$"100.64.0.{id}/32", $"fd7a:115c:a1e0::{id}/128"],
        Tags = [.. tags],
    };

    private const string AdminsToServers = """
        {
          // admins may reach the servers on ssh
          "groups": {"group:admins": ["alice@"]},
          "tagOwners": {"tag:server": ["group:admins"]},
          "acls": [{"action": "accept", "src": ["group:admins"], "dst": ["tag:server:22"]}],
        }
        """;

    private static readonly PeerView Alice = Node(1, 1, "alice");
    private static readonly PeerView Bob = Node(2, 2, "bob");
    private static readonly PeerView Server = Node(3, 1, "alice", "tag:server");

    private static CompiledTailnetPolicy Compile(string text, params PeerView[] nodes)
    {
        var load = PolicyLoader.Load(text);
        Assert.True(load.IsValid, load.ErrorMessage);
        return CompiledTailnetPolicy.Compile(load.Policy!, nodes, "https://hs.example.com");
    }

    [Fact]
    public void Visibility_and_filters_follow_the_policy()
    {
        var policy = Compile(AdminsToServers, Alice, Bob, Server);

        Assert.True(policy.CanSee(Alice, Server));
        Assert.True(policy.CanSee(Server, Alice));
        Assert.False(policy.CanSee(Bob, Server));
        Assert.False(policy.CanSee(Alice, Bob));

        using var filter = JsonDocument.Parse(policy.PacketFilterFor(Server));
        var rule = Assert.Single(filter.RootElement.EnumerateArray());
        Assert.Contains("100.64.0.1", rule.GetProperty("SrcIPs").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal(22, rule.GetProperty("DstPorts")[0].GetProperty("Ports").GetProperty("First").GetInt32());
        Assert.Equal("[]", Encoding.UTF8.GetString(policy.PacketFilterFor(Bob).Span));
        Assert.Equal("""{"rules":[]}""", Encoding.UTF8.GetString(policy.SshPolicyFor(Alice).Span));
    }

    [Fact]
    public void Switching_the_map_from_allow_all_to_a_policy_hides_peers_and_sends_filters()
    {
        var map = new NetworkMapState(new MapSettings("tail.example.com", "{}"u8.ToArray(), new DnsConfig(), true), AllowAllPolicy.Instance);
        foreach (var node in new[] { Alice, Bob, Server })
        {
            map.Upsert(node, Now);
        }

        map.Subscribe(2, Now);
        map.Subscribe(3, Now);

        var updates = map.SetPolicy(Compile(AdminsToServers, Alice, Bob, Server), Now);

        var forBob = Assert.Single(updates, u => u.ViewerId == 2).Response;
        Assert.Equal([1L, 3L], forBob.PeersRemoved!.Value);
        Assert.Equal("[]", Encoding.UTF8.GetString(forBob.PacketFilterRaw!.Value.Span));
        var forServer = Assert.Single(updates, u => u.ViewerId == 3).Response;
        Assert.Equal([2L], forServer.PeersRemoved!.Value);
    }

    private const string OwnNodesOnly = """{"acls": [{"action": "accept", "src": ["autogroup:member"], "dst": ["autogroup:self:*"]}]}""";

    [Fact]
    public void A_node_that_takes_the_slot_of_a_deleted_one_is_not_taken_for_it_by_a_policy_compiled_before()
    {
        var map = new NetworkMapState(new MapSettings("tail.example.com", "{}"u8.ToArray(), new DnsConfig(), true), AllowAllPolicy.Instance);
        var alicesOther = Node(4, 1, "alice");
        foreach (var node in new[] { Alice, Bob, alicesOther })
        {
            map.Upsert(node, Now);
        }

        map.SetPolicy(Compile(OwnNodesOnly, Alice, Bob, alicesOther), Now);
        Assert.Equal([4L], map.Subscribe(1, Now).Peers!.Value.Select(p => p.Id));

        // Alice's other node goes; Carol's joins into its freed slot before the policy is compiled again.
        map.Remove(4);
        Assert.Equal([4L], Assert.Single(map.Flush(Now)).Response.PeersRemoved!.Value);
        map.Upsert(Node(5, 3, "carol"), Now);
        map.Flush(Now);

        Assert.Null(map.Subscribe(1, Now).Peers);
    }

    [Fact]
    public void Peer_sets_are_right_whether_or_not_nodes_joined_the_map_in_id_order()
    {
        // Nodes 1-64 join in id order (their slots match their positions in the compile), 65-200 in reverse order
        // (they do not), so both ways of translating a viewer's peers to slots are taken.
        var nodes = Enumerable.Range(1, 200).Select(id => Node(id, id % 3, $"user{id % 3}")).ToArray();
        var map = new NetworkMapState(new MapSettings("tail.example.com", "{}"u8.ToArray(), new DnsConfig(), true), AllowAllPolicy.Instance);
        foreach (var node in nodes.Take(64).Concat(nodes.Skip(64).Reverse()))
        {
            map.Upsert(node, Now);
        }

        var policy = Compile(OwnNodesOnly, nodes);
        map.SetPolicy(policy, Now);

        foreach (var viewer in new[] { nodes[0], nodes[63], nodes[64], nodes[130], nodes[199] })
        {
            var expected = nodes.Where(n => n.Id != viewer.Id && policy.CanSee(viewer, n)).Select(n => n.Id).Order();
            var peers = map.Subscribe(viewer.Id, Now).Peers!.Value.Select(p => p.Id).Order();
            Assert.Equal(expected, peers);
            Assert.All(peers, id => Assert.Equal(viewer.Id % 3, id % 3));
        }
    }

    [Fact]
    public void A_policy_change_sends_each_viewer_the_difference_of_its_peer_set()
    {
        var map = new NetworkMapState(new MapSettings("tail.example.com", "{}"u8.ToArray(), new DnsConfig(), true), AllowAllPolicy.Instance);
        var alicesOther = Node(4, 1, "alice");
        foreach (var node in new[] { Alice, Bob, Server, alicesOther })
        {
            map.Upsert(node, Now);
        }

        map.SetPolicy(Compile(OwnNodesOnly, Alice, Bob, Server, alicesOther), Now);
        map.Subscribe(1, Now);
        map.Subscribe(2, Now);

        var updates = map.SetPolicy(Compile(AdminsToServers, Alice, Bob, Server, alicesOther), Now);

        var forAlice = Assert.Single(updates, u => u.ViewerId == 1).Response;
        Assert.Equal([3L], forAlice.PeersChanged!.Value.Select(p => p.Id));
        Assert.Equal([4L], forAlice.PeersRemoved!.Value);
        // Bob saw nobody and still sees nobody: only his filter changes (his own nodes may no longer reach him).
        var forBob = Assert.Single(updates, u => u.ViewerId == 2).Response;
        Assert.Null(forBob.PeersChanged);
        Assert.Null(forBob.PeersRemoved);
        Assert.Equal("[]", Encoding.UTF8.GetString(forBob.PacketFilterRaw!.Value.Span));
    }
}
