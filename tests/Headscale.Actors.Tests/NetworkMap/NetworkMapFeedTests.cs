using System.Text.Json;
using Headscale.Actors.Nodes;
using Headscale.Actors.Nodes.Messages;
using Headscale.Actors.Tests.Lifecycle;

namespace Headscale.Actors.Tests.NetworkMap;

/// <summary>
/// The production composition root on SQLite: node changes reach this host's network map through
/// the feed, and map sessions see them as a Tailscale client would.
/// </summary>
public sealed class NetworkMapFeedTests(LifecycleHost host) : IClassFixture<LifecycleHost>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Registered_nodes_reach_the_map_and_a_session_gets_its_peer_in_the_full_map()
    {
        var (a, b) = await RegisterPairAsync("feed-full");
        await MapProbe.WaitUntilMappedAsync(host.Services, a.Id, b.Id);

        await using var session = await MapProbe.ConnectAsync(host.Services, a.Id);
        var full = await session.NextMatchingAsync(m => m.TryGetProperty("Peers", out _));

        Assert.Equal((long)a.Id.Value, full.GetProperty("Node").GetProperty("ID").GetInt64());
        Assert.Equal([$"{a.IPv4}/32", $"{a.IPv6}/128"], full.GetProperty("Node").GetProperty("Addresses").EnumerateArray().Select(e => e.GetString()));
        Assert.True(MapProbe.ListsPeer(full, "Peers", b.Id, p => p.GetProperty("Name").GetString()!.StartsWith(b.GivenName + ".", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task An_approved_announced_route_reaches_peers_in_AllowedIPs_and_a_deletion_removes_the_peer()
    {
        var (a, b) = await RegisterPairAsync("feed-routes");
        await MapProbe.WaitUntilMappedAsync(host.Services, a.Id, b.Id);
        await using var viewer = await MapProbe.ConnectAsync(host.Services, a.Id);
        await using var router = await MapProbe.ConnectAsync(host.Services, b.Id);
        await viewer.NextMatchingAsync(m => m.TryGetProperty("Peers", out _));
        await router.NextMatchingAsync(m => m.TryGetProperty("Peers", out _));

        var route = "10.77." + Random.Shared.Next(0, 255) + ".0/24";
        var hostinfo = $$$"""{"Hostname":"router","RoutableIPs":["{{{route}}}"],"NetInfo":{"PreferredDERP":9}}""";
        var reported = await host.Nodes.ReportClientStateAsync(b.Id, new ClientReport(hostinfo, "router", [route], null), DateTimeOffset.UtcNow, Ct);
        Assert.Equal(ResultCode.Ok, reported.Result.Code);
        var approved = await host.Nodes.SetApprovedRoutesAsync(b.Id, [route], DateTimeOffset.UtcNow, Cause.Cli("nodes approve-routes"), Ct);
        Assert.Equal([route], approved.Node!.ApprovedRoutes);

        var changed = await viewer.NextMatchingAsync(m => MapProbe.ListsPeer(m, "PeersChanged", b.Id, p =>
            p.TryGetProperty("AllowedIPs", out var allowed) && allowed.EnumerateArray().Any(ip => ip.GetString() == route)));
        var peer = changed.GetProperty("PeersChanged").EnumerateArray().First(p => p.GetProperty("ID").GetInt64() == (long)b.Id.Value);
        Assert.Equal("router", peer.GetProperty("Hostinfo").GetProperty("Hostname").GetString());
        Assert.Equal(9, peer.GetProperty("HomeDERP").GetInt32());
        Assert.Contains(route, peer.GetProperty("PrimaryRoutes").EnumerateArray().Select(r => r.GetString()));

        await host.Nodes.DeleteAsync(b.Id, DateTimeOffset.UtcNow, Cause.Cli("nodes delete"), Ct);
        await viewer.NextMatchingAsync(m => MapProbe.ListsPeer(m, "PeersRemoved", b.Id));
    }

    [Fact]
    public async Task Tags_and_disco_key_changes_reach_peers()
    {
        var (a, b) = await RegisterPairAsync("feed-tags");
        await MapProbe.WaitUntilMappedAsync(host.Services, a.Id, b.Id);
        await using var viewer = await MapProbe.ConnectAsync(host.Services, a.Id);
        await viewer.NextMatchingAsync(m => m.TryGetProperty("Peers", out _));

        await host.Nodes.SetTagsAsync(b.Id, ["tag:feed"], DateTimeOffset.UtcNow, Cause.Cli("nodes tag"), Ct);
        await viewer.NextMatchingAsync(m => MapProbe.ListsPeer(m, "PeersChanged", b.Id, p =>
            p.TryGetProperty("Tags", out var tags) && tags.EnumerateArray().Any(t => t.GetString() == "tag:feed")));

        var disco = "discokey:" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        await host.Nodes.ReportClientStateAsync(b.Id, new ClientReport(null, "", [], disco), DateTimeOffset.UtcNow, Ct);
        await viewer.NextMatchingAsync(m => MapProbe.ListsPeer(m, "PeersChanged", b.Id, p =>
            p.TryGetProperty("DiscoKey", out var key) && key.GetString() == disco));
    }

    [Fact]
    public async Task Bad_client_reports_and_admin_inputs_change_nothing()
    {
        var (_, b) = await RegisterPairAsync("feed-bad");
        var before = await host.Nodes.GetAsync(b.Id, Ct);

        var badRoute = await host.Nodes.ReportClientStateAsync(b.Id, new ClientReport("""{"RoutableIPs":["nope"]}""", "", ["nope"], null), DateTimeOffset.UtcNow, Ct);
        var badDisco = await host.Nodes.ReportClientStateAsync(b.Id, new ClientReport(null, "", [], "discokey:xyz"), DateTimeOffset.UtcNow, Ct);
        var badApproval = await host.Nodes.SetApprovedRoutesAsync(b.Id, ["10.0.0.0/24", "10.0.0.0/99"], DateTimeOffset.UtcNow, Cause.Cli("x"), Ct);
        var badTag = await host.Nodes.SetTagsAsync(b.Id, ["server"], DateTimeOffset.UtcNow, Cause.Cli("x"), Ct);
        var unknownUser = await host.Nodes.MoveAsync(b.Id, new Users.UserId(ulong.MaxValue), DateTimeOffset.UtcNow, Cause.Cli("x"), Ct);
        var unknownNode = await host.Nodes.SetTagsAsync(new NodeId(ulong.MaxValue - 1), ["tag:a"], DateTimeOffset.UtcNow, Cause.Cli("x"), Ct);

        Assert.Equal(ResultCode.BadRequest, badRoute.Result.Code);
        Assert.StartsWith("Hostinfo.RoutableIPs: 'nope'", badRoute.Result.Message);
        Assert.StartsWith("DiscoKey:", badDisco.Result.Message);
        Assert.StartsWith("routes: '10.0.0.0/99'", badApproval.Result.Message);
        Assert.StartsWith("tags: 'server'", badTag.Result.Message);
        Assert.Equal(ResultCode.NotFound, unknownUser.Result.Code);
        Assert.StartsWith("user:", unknownUser.Result.Message);
        Assert.Equal(ResultCode.NotFound, unknownNode.Result.Code);

        var after = await host.Nodes.GetAsync(b.Id, Ct);
        Assert.Equal(JsonSerializer.Serialize(before), JsonSerializer.Serialize(after));
    }

    [Fact]
    public async Task Moving_a_node_changes_its_owner_in_the_entity_the_registry_and_the_map()
    {
        var (a, b) = await RegisterPairAsync("feed-move");
        var other = await host.CreateUserAsync("feed-move-to");
        await MapProbe.WaitUntilMappedAsync(host.Services, a.Id, b.Id);
        await using var viewer = await MapProbe.ConnectAsync(host.Services, a.Id);
        await viewer.NextMatchingAsync(m => m.TryGetProperty("Peers", out _));

        var moved = await host.Nodes.MoveAsync(b.Id, other.Id, DateTimeOffset.UtcNow, Cause.Cli("nodes move"), Ct);

        Assert.Equal(other.Id, moved.Node!.User);
        Assert.Equal([b.Id], (await host.Nodes.ListAsync(other.Id, Ct)).Select(n => n.Id));
        var changed = await viewer.NextMatchingAsync(m => MapProbe.ListsPeer(m, "PeersChanged", b.Id, p => p.GetProperty("User").GetInt64() == (long)other.Id.Value));
        Assert.Contains(changed.GetProperty("UserProfiles").EnumerateArray(), p => p.GetProperty("LoginName").GetString() == other.Name);
    }

    [Fact]
    public async Task A_session_makes_the_node_connected_and_its_end_disconnected_which_deletes_an_ephemeral_node()
    {
        var user = await host.CreateUserAsync("feed-ephemeral");
        var key = await host.CreateKeyAsync(user.Id, reusable: true, ephemeral: true);
        var watcher = (await host.RegisterAsync(TestKeys.RandomMachine(), LifecycleHost.Request(TestKeys.RandomNode(), key))).Node!;
        var node = (await host.RegisterAsync(TestKeys.RandomMachine(), LifecycleHost.Request(TestKeys.RandomNode(), key))).Node!;
        await MapProbe.WaitUntilMappedAsync(host.Services, watcher.Id, node.Id);
        await using var viewer = await MapProbe.ConnectAsync(host.Services, watcher.Id);
        await viewer.NextMatchingAsync(m => m.TryGetProperty("Peers", out _));

        var session = await MapProbe.ConnectAsync(host.Services, node.Id);
        await session.NextMatchingAsync(m => m.TryGetProperty("Node", out _));
        await viewer.NextMatchingAsync(m => m.TryGetProperty("OnlineChange", out var online) && online.TryGetProperty(node.Id.Value.ToString(), out var up) && up.GetBoolean());
        await session.DisposeAsync();

        // Offline after the grace: the entity records last-seen (peers get it) and, being ephemeral, deletes itself.
        await viewer.NextMatchingAsync(m => MapProbe.ListsPeer(m, "PeersChanged", node.Id, p => p.TryGetProperty("LastSeen", out _)));
        await viewer.NextMatchingAsync(m => MapProbe.ListsPeer(m, "PeersRemoved", node.Id));
        Assert.Null(await host.Nodes.GetAsync(node.Id, Ct));
        Assert.NotNull(await host.Nodes.GetAsync(watcher.Id, Ct));
    }

    private async Task<(Node A, Node B)> RegisterPairAsync(string prefix)
    {
        var user = await host.CreateUserAsync(prefix);
        var key = await host.CreateKeyAsync(user.Id, reusable: true);
        var a = await host.RegisterAsync(TestKeys.RandomMachine(), LifecycleHost.Request(TestKeys.RandomNode(), key, prefix + "-a"));
        var b = await host.RegisterAsync(TestKeys.RandomMachine(), LifecycleHost.Request(TestKeys.RandomNode(), key, prefix + "-b"));
        Assert.Equal("", a.Error);
        Assert.Equal("", b.Error);
        return (a.Node!, b.Node!);
    }
}
