using System.Text.Json;
using Xunit;
using static Headscale.Policy.Tests.Compilation.TestTailnet;

namespace Headscale.Policy.Tests.Compilation;

public sealed class CompiledPolicyTests
{
    private static string Json(object value) => value switch
    {
        System.Collections.Immutable.ImmutableArray<FilterRule> f => JsonSerializer.Serialize(f, WireJsonContext.Default.ImmutableArrayFilterRule),
        System.Collections.Immutable.ImmutableArray<SshRule> s => JsonSerializer.Serialize(s, WireJsonContext.Default.ImmutableArraySshRule),
        _ => throw new ArgumentException("unsupported", nameof(value)),
    };

    private static string[] PeerNames(CompiledPolicy p, ulong id) => [.. p.Peers(id).Select(n => n.Name).Order()];

    [Fact]
    public void No_acls_and_no_grants_allows_everything()
    {
        var p = Compile("{}");
        Assert.Equal("""[{"SrcIPs":["*"],"DstPorts":[{"IP":"*","Ports":{"First":0,"Last":65535}}]}]""", Json(p.PacketFilter(4)));
        Assert.Equal(4, p.Peers(1).Length);
    }

    [Fact]
    public void A_rule_reaches_only_its_destinations_and_makes_the_pair_mutual_peers()
    {
        var p = Compile("{" + TagOwners + ", \"acls\": [{\"action\": \"accept\", \"src\": [\"freya@example.com\"], \"dst\": [\"tag:server:22\"]}]}");
        Assert.Equal(
            """[{"SrcIPs":["100.64.0.3","fd7a:115c:a1e0::3"],"DstPorts":[{"IP":"100.64.0.4","Ports":{"First":22,"Last":22}},{"IP":"fd7a:115c:a1e0::4","Ports":{"First":22,"Last":22}}]}]""",
            Json(p.PacketFilter(4)));
        Assert.Equal("[]", Json(p.PacketFilter(3)));
        Assert.Equal(["server"], PeerNames(p, 3));
        Assert.Equal(["freya-laptop"], PeerNames(p, 4));
        Assert.Empty(p.Peers(1));
    }

    [Fact]
    public void Wildcard_source_is_the_tailnet_ranges_plus_approved_subnet_routes_and_protocol_is_kept()
    {
        var p = Compile("{" + TagOwners + ", \"acls\": [{\"action\": \"accept\", \"proto\": \"udp\", \"src\": [\"*\"], \"dst\": [\"tag:server:53\"]}]}");
        var rule = Assert.Single(p.PacketFilter(4));
        Assert.Equal(["100.64.0.0-100.115.91.255", "100.115.94.0-100.127.255.255", "fd7a:115c:a1e0::/48", "10.33.0.0/16"], rule.SrcIPs);
        Assert.Equal([17], rule.IPProto);
    }

    [Fact]
    public void Autogroup_self_gives_each_user_access_to_their_own_devices_only()
    {
        var p = Compile("{\"acls\": [{\"action\": \"accept\", \"src\": [\"autogroup:member\"], \"dst\": [\"autogroup:self:*\"]}]}");
        var odin = Assert.Single(p.PacketFilter(1));
        Assert.Equal(["100.64.0.1", "fd7a:115c:a1e0::1", "100.64.0.2", "fd7a:115c:a1e0::2"], odin.SrcIPs);
        Assert.Equal(["100.64.0.1", "fd7a:115c:a1e0::1"], odin.DstPorts.Select(d => d.IP));
        Assert.Equal(["odin-phone"], PeerNames(p, 1));
        Assert.Empty(p.Peers(3));
        Assert.Empty(p.PacketFilter(4));
    }

    [Fact]
    public void Subnet_routes_are_shown_to_peers_that_may_reach_them()
    {
        var p = Compile("{" + TagOwners + ", \"acls\": [{\"action\": \"accept\", \"src\": [\"odin@example.com\"], \"dst\": [\"10.33.0.0/16:443\"]}]}");
        Assert.Equal(["router"], PeerNames(p, 1));
        var view = p.PeerView(1, 5);
        Assert.Contains(System.Net.IPNetwork.Parse("10.33.0.0/16"), view.AllowedIPs);
        Assert.Equal([System.Net.IPNetwork.Parse("10.33.0.0/16")], view.PrimaryRoutes);
        Assert.Equal("10.33.0.0/16", Assert.Single(p.PacketFilter(5)).DstPorts.Single().IP);
    }

    [Fact]
    public void Ssh_check_rules_come_first_and_users_map_as_the_service_does()
    {
        var p = Compile("{" + TagOwners + ", \"ssh\": [" +
            "{\"action\": \"accept\", \"src\": [\"freya@example.com\"], \"dst\": [\"tag:server\"], \"users\": [\"autogroup:nonroot\"]}," +
            "{\"action\": \"check\", \"src\": [\"odin@example.com\"], \"dst\": [\"tag:server\"], \"users\": [\"root\", \"ubuntu\"]}]}");
        var rules = p.SshRules(4);
        Assert.Equal(2, rules.Length);
        Assert.Equal("https://unused/machine/ssh/action/$SRC_NODE_ID/to/$DST_NODE_ID?local_user=$LOCAL_USER", rules[0].Action.HoldAndDelegate);
        Assert.Equal(new Dictionary<string, string> { ["root"] = "root", ["ubuntu"] = "ubuntu" }, rules[0].SshUsers);
        Assert.True(rules[1].Action.Accept);
        Assert.Equal(new Dictionary<string, string> { ["*"] = "=", ["root"] = "" }, rules[1].SshUsers);
        Assert.Equal(["100.64.0.3", "fd7a:115c:a1e0::3"], rules[1].Principals.Select(x => x.NodeIP));
        Assert.Empty(p.SshRules(1));
    }

    [Fact]
    public void Routes_are_approvable_by_routes_entries_and_exit_routes_only_by_exitNode()
    {
        var routesOnly = Compile("{" + TagOwners + ", \"autoApprovers\": {\"routes\": {\"10.0.0.0/8\": [\"tag:router\"], \"0.0.0.0/0\": [\"tag:router\"]}}}");
        Assert.Equal([System.Net.IPNetwork.Parse("10.33.0.0/16")], routesOnly.ApprovableRoutes(5));
        var withExit = Compile("{" + TagOwners + ", \"autoApprovers\": {\"exitNode\": [\"tag:router\"]}}");
        Assert.Equal(["0.0.0.0/0", "::/0"], withExit.ApprovableRoutes(5).Select(r => r.ToString()));
    }

    [Fact]
    public void Unknown_node_is_reported()
    {
        var p = Compile("{}");
        Assert.Throws<KeyNotFoundException>(() => p.PacketFilter(99));
    }

    [Fact]
    public void Diff_lists_only_the_nodes_whose_outputs_changed()
    {
        var policy = "{" + TagOwners + ", \"acls\": [{\"action\": \"accept\", \"src\": [\"freya@example.com\"], \"dst\": [\"tag:server:22\"]}]}";
        var before = Compile(policy);
        var same = Compile(policy);
        Assert.Empty(PolicyDiff.ChangedNodes(before, same));

        // Odin's phone becomes a tagged server: it now receives freya's rule, and freya sees it.
        var snapshot = TestTailnet.Snapshot();
        var nodes = snapshot.Nodes.SetItem(1, snapshot.Nodes[1] with { UserEmail = null, Tags = ["tag:server"] });
        var after = Compile(policy, snapshot with { Nodes = nodes });
        Assert.Equal([2UL, 3UL], PolicyDiff.ChangedNodes(before, after).Order());
    }
}
