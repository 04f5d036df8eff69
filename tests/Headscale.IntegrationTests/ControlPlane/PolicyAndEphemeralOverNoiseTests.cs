using System.Text.Json.Nodes;
using Headscale.Management.V1;

namespace Headscale.IntegrationTests.ControlPlane;

/// <summary>Policy in database mode and the shortest ephemeral timeout the config allows.</summary>
public sealed class PolicyServer : ControlServer
{
    public static readonly TimeSpan EphemeralTimeout = TimeSpan.FromSeconds(66);

    protected override string ExtraConfig => "policy:\n  mode: database\nnode:\n  ephemeral:\n    inactivity_timeout: 66s\n";
}

/// <summary>Whole-tailnet effects through the real server: a policy that hides peers, and ephemeral nodes going away.</summary>
public sealed class PolicyAndEphemeralOverNoiseTests(PolicyServer server) : IClassFixture<PolicyServer>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_policy_that_hides_a_peer_removes_it_from_the_map_and_the_filter()
    {
        var alice = await server.CreateUserAsync("alice");
        var bob = await server.CreateUserAsync("bob");
        using var a = await server.RegisteredNodeAsync(alice);
        using var b = await server.RegisteredNodeAsync(bob);
        await using var streamA = await a.StreamMapAsync(Ct);
        var full = (await streamA.ReadAsync(Ct))!;
        Assert.Contains(b.NodeKey, NetworkMapOverNoiseTests.PeerKeys(full["Peers"]));
        var bId = (long)(await server.FindNodeAsync(b.NodeKey))!.Id;

        var policy = $$"""{"acls":[{"action":"accept","src":["{{alice.Name}}@"],"dst":["{{alice.Name}}@:*"]}]}""";
        await server.Admin.SetPolicyAsync(new SetPolicyRequest { Policy = policy }, cancellationToken: Ct);

        var bAddresses = (await server.FindNodeAsync(b.NodeKey))!.IpAddresses;
        var aAddresses = (await server.FindNodeAsync(a.NodeKey))!.IpAddresses;
        bool removed = false, filtered = false;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(TimeSpan.FromSeconds(45));
        while (!(removed && filtered))
        {
            var frame = (await streamA.ReadAsync(deadline.Token))!;
            removed |= frame["PeersRemoved"] is JsonArray ids && ids.Any(id => id!.GetValue<long>() == bId)
                || (frame["Peers"] is JsonArray && !NetworkMapOverNoiseTests.PeerKeys(frame["Peers"]).Contains(b.NodeKey));
            if ((frame["PacketFilter"] ?? frame["PacketFilters"]) is { } filter)
            {
                var text = filter.ToJsonString();
                // The new filter names alice's own node and nothing of bob's.
                filtered = aAddresses.All(ip => text.Contains(ip, StringComparison.Ordinal))
                    && bAddresses.All(ip => !text.Contains(ip, StringComparison.Ordinal));
            }
        }
    }

    [Fact]
    public async Task An_ephemeral_node_is_deleted_after_staying_disconnected_for_the_timeout()
    {
        var user = await server.CreateUserAsync();
        using var node = server.NewNode();
        Assert.True((await node.RegisterAsync(await server.CreateKeyAsync(user, ephemeral: true), Ct, ephemeral: true)).Succeeded);
        using var keeper = await server.RegisteredNodeAsync(user);

        await using (var stream = await node.StreamMapAsync(Ct))
        {
            await stream.ReadAsync(Ct);
        }

        Assert.NotNull(await server.FindNodeAsync(node.NodeKey));
        await server.WaitForNodesAsync(nodes => nodes.All(n => n.NodeKey != node.NodeKey), PolicyServer.EphemeralTimeout * 3);
        Assert.NotNull(await server.FindNodeAsync(keeper.NodeKey));
    }
}
